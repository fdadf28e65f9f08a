# Shared by the Python drivers of the client matrix: argv parsing and the JSON lines of protocol.md.
import json
import sys
import traceback

scenario = sys.argv[1]
config = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}


def emit(event, **fields):
    print(json.dumps({'event': event, **fields}), flush=True)


def result(**fields):
    emit('result', **fields)


def unsupported(reason):
    emit('unsupported', reason=reason)


def from_hex(h):
    return None if h is None else bytes.fromhex(h)


def to_hex(b):
    return None if b is None else bytes(b).hex()


def main(scenarios):
    try:
        scenarios[scenario](config)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    sys.exit(0)
