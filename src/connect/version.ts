// The version the worker and its built-in plugins report (GET /, GET /connector-plugins): kts's own.
import pkg from '../../package.json' with { type: 'json' };

export const KTS_CONNECT_VERSION: string = pkg.version;
