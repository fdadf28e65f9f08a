// Shared by the Node.js drivers: argv parsing and the JSON lines of protocol.md.
export const [scenario, configJson] = process.argv.slice(2);
export const config = JSON.parse(configJson ?? '{}');

export const emit = (event, fields = {}) => process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
export const result = (fields = {}) => emit('result', fields);
export const unsupported = (reason) => emit('unsupported', { reason });
export const fromHex = (h) => (h === null ? null : Buffer.from(h, 'hex'));
export const toHex = (b) => (b === null || b === undefined ? null : Buffer.from(b).toString('hex'));

/** Runs the driver's scenario function; a failure is printed on stderr with exit code 1. */
export async function main(scenarios) {
  const fn = scenarios[scenario];
  if (!fn) {
    console.error(`unknown scenario ${scenario}`);
    process.exit(2);
  }
  try {
    await fn(config);
    process.exit(0);
  } catch (e) {
    console.error(e?.stack ?? String(e));
    process.exit(1);
  }
}
