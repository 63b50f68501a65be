# ref.py - expected bytes from the real AWS CLI v2 formatter classes (Debian's
# /usr/bin/aws, run with /usr/bin/python3), for it_format_parity.sh.
#
#   python3 ref.py FORMAT [TITLE [WIDTH]] < value.json       one case to stdout
#   python3 ref.py --batch OUTDIR < jobs                     many cases, one start-up
#   python3 ref.py --ts EPOCH_MS...                          timestamps (honours TZ)
#
# A job line is "ID<TAB>FORMAT<TAB>TITLE<TAB>WIDTH<TAB>INPUT-PATH"; the output goes
# to OUTDIR/ID.out and the status (0, or 1 when the CLI raises) to OUTDIR/ID.rc.
# FORMAT is json, text, table, yaml, yaml-stream, or pages-text / pages-yaml-stream
# where the input is {"pages": [...], "next_token": tok-or-null} and every page goes
# through the CLI's per-page path.
import argparse
import io
import json
import os
import sys

import awscli.table
from awscli import text as cli_text
from awscli.formatter import StreamedYAMLFormatter, get_formatter


class _Const:
    """Stands in for a --query whose result is the given value: the CLI applies
    --query after dropping ResponseMetadata, so any JSON value (even a scalar)
    reaches the formatter exactly as a --query result would."""

    def __init__(self, value):
        self.value = value

    def search(self, _response):
        return self.value


def render(fmt, title, width, data):
    """Returns (text, status) as the CLI would write it to a non-terminal stdout."""
    # MultiTable asks the terminal for its width (80 when stdout is not a TTY);
    # pin it so a case can also ask for another width.
    awscli.table.determine_terminal_width = lambda default_width=80: width
    out = io.StringIO()
    try:
        if fmt == 'pages-text':
            # TextFormatter.__call__'s paginated loop, --query unset.
            for page in data['pages']:
                cli_text.format_text(page, out)
            if data.get('next_token'):
                cli_text.format_text(
                    {'NextToken': {'NextToken': data['next_token']}}, out)
        elif fmt == 'pages-yaml-stream':
            f = StreamedYAMLFormatter(argparse.Namespace(query=None, color='off'))
            for page in data['pages']:
                f._yaml_dumper.dump([page], out)
        else:
            args = argparse.Namespace(query=_Const(data), color='off')
            get_formatter(fmt, args)(title, {}, out)
    except Exception as e:
        # The CLI reports the error on stderr (exit 255); what the formatter wrote
        # before failing stays on stdout (text writes as it goes, table renders
        # only at the end, so a failing table prints nothing).
        sys.stderr.write('aws formatter raised %s: %s\n' % (type(e).__name__, e))
        return out.getvalue(), 1
    return out.getvalue(), 0


def load(path):
    with open(path, 'rb') as f:
        return json.loads(f.read().decode('utf-8'))


def batch(outdir):
    for line in sys.stdin:
        line = line.rstrip('\n')
        if not line:
            continue
        cid, fmt, title, width, path = line.split('\t')
        text, status = render(fmt, title, int(width), load(path))
        with open(os.path.join(outdir, cid + '.out'), 'wb') as f:
            f.write(text.encode('utf-8'))
        with open(os.path.join(outdir, cid + '.rc'), 'w') as f:
            f.write('%d\n' % status)


def timestamps(values):
    # awscli/customizations/timestampformat.py iso_format -> botocore parse_timestamp
    from botocore.utils import parse_timestamp
    for v in values:
        print(parse_timestamp(int(v) / 1000).isoformat())


def main():
    if sys.argv[1] == '--batch':
        batch(sys.argv[2])
        return 0
    if sys.argv[1] == '--ts':
        timestamps(sys.argv[2:])
        return 0
    fmt = sys.argv[1]
    title = sys.argv[2] if len(sys.argv) > 2 else 'LookupEvents'
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 80
    text, status = render(fmt, title, width, json.loads(sys.stdin.buffer.read().decode('utf-8')))
    sys.stdout.buffer.write(text.encode('utf-8'))
    return status


if __name__ == '__main__':
    sys.exit(main())
