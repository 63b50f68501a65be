# ref.py - expected bytes from the real AWS CLI v2 formatter classes (Debian awscli).
# Usage: python3 ref.py FORMAT [TITLE] < value.json
#   FORMAT: json | text | table | yaml | yaml-stream, or "pages-text" /
#   "pages-yaml-stream" where stdin is {"pages": [...], "next_token": tok|null}
#   and each page goes through the CLI's per-page path (no --query).
import argparse
import io
import json
import sys

from awscli.formatter import get_formatter, TextFormatter, StreamedYAMLFormatter
from awscli import text as cli_text


class _Const:
    def __init__(self, value):
        self.value = value

    def search(self, _response):
        return self.value


def main():
    fmt = sys.argv[1]
    title = sys.argv[2] if len(sys.argv) > 2 else 'LookupEvents'
    data = json.loads(sys.stdin.buffer.read().decode('utf-8'))
    # The CLI applies --query to the response after dropping ResponseMetadata; a
    # stand-in query that yields the value lets any JSON value (even a scalar)
    # reach the formatter exactly as a --query result would.
    args = argparse.Namespace(query=_Const(data), color='off')
    out = io.StringIO()
    if fmt == 'pages-text':
        # TextFormatter's paginated loop, one page at a time (query is None).
        for page in data['pages']:
            cli_text.format_text(page, out)
        if data.get('next_token'):
            cli_text.format_text({'NextToken': {'NextToken': data['next_token']}}, out)
    elif fmt == 'pages-yaml-stream':
        f = StreamedYAMLFormatter(argparse.Namespace(query=None, color='off'))
        for page in data['pages']:
            f._yaml_dumper.dump([page], out)
    else:
        get_formatter(fmt, args)(title, {}, out)
    sys.stdout.buffer.write(out.getvalue().encode('utf-8'))


if __name__ == '__main__':
    main()
