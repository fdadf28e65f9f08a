// Small file-system helpers shared by the transaction log and the snapshots.
import { open } from 'node:fs/promises';

/** Makes a directory entry change (a created, renamed or deleted file) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
