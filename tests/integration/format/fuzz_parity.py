# fuzz_parity.py - randomised differential check of bt-fmtdriver against the AWS
# CLI's formatter classes (a development aid beside it_format_parity.sh, which runs
# the fixed corpus). Random JSON values built from awkward strings (YAML indicator
# characters, numbers-as-strings, CJK, emoji, control characters, long lines) go
# through both; the first differences are printed.
#
#   /usr/bin/python3 fuzz_parity.py BUILD_DIR [COUNT [SEED [FORMATS]]]
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

ATOMS = [
    '', ' ', 'a', 'x y', 'true', 'True', 'yes', 'no', 'on', 'null', 'Null', '~', '-', '--',
    '---', '...', '- x', '-x', ':', 'a:b', 'a: b', 'a #b', 'a#b', '#', '?', '? x', '?x',
    '!', '&', '*', '|', '>', "'", '"', '%', '@', '`', ',', '[', ']', '{', '}', '=', '<<',
    '0', '1', '-1', '+1', '1.5', '1e5', '1E+5', '.5', '1.', '0x1F', '0o17', '0b101',
    '1_000', '08', '1:30', '.inf', '-.Inf', '.nan', '2021-01-01', '2021-1-1 1:02:03',
    '2021-01-01T00:00:00Z', '2021-01-01t1:02:03.5 +05:30', 'tab\there', 'nl\nx', '\n',
    'cr\rx', 'a\u2028b', 'nel\x85x', '\x00', '\x07', '\x1b', '\x7f', '\u00a0', '\ufeff',
    '\ufffe', '\ue000', 'é', 'ß', 'ﬁ', 'Ω', '日本語', 'ｶﾀｶﾅ', '한국어', '①', '±', '😀', '👩\u200d💻',
    'back\\slash', 'it\'s', 'say "hi"', 'mixed \' and "', '  lead', 'trail  ', 'two  spaces',
    'arn:aws:iam::123456789012:role/x', 'AWSCodeBuild-1f2e', 'ReadOnly', 'NextToken',
]

KEYS = ['a', 'b', 'EventId', 'EventName', 'Resources', 'ResourceType', 'Name', 'ß', 'é',
        '日本', 'true', '', 'x y', 'k' * 130, 'multi\nline', '1', 'Z', 'z', 'A_b']


# number literals spliced into the JSON text as written (json.dump would normalise)
NUMS = ['1E400', '-1e400', '-0', '-0.0', '1.0', '1e5', '1E-7', '123456789012345678901234567890',
        '0.1', '5e-324', '1.7976931348623157e308', '2.5', '100', '1e16', '1e15', '12345678.9',
        '0.0001', '0.00001', '1637257262.123', '-12.50']


def rstr(r):
    n = r.choice([1, 1, 1, 2, 3])
    s = ''.join(r.choice(ATOMS) for _ in range(n))
    if r.random() < 0.08:
        s = ' '.join(r.choice(ATOMS + ['word'] * 10) for _ in range(r.randint(10, 40)))
    if r.random() < 0.05:
        s = r.choice(['', ' ']).join(r.choice(['日本語', 'word', ' ', '  ', "it's", '😀', 'é',
                                            '\\t', '"q"', 'x' * 30])
                                   for _ in range(r.randint(10, 60)))
    if r.random() < 0.03:
        s = 'x' * r.randint(60, 200)
    return s


def rscalar(r):
    k = r.random()
    if k < 0.55:
        return rstr(r)
    if k < 0.65:
        return r.randint(-10**6, 10**6)
    if k < 0.70:
        return '@@NUM%d@@' % r.randrange(len(NUMS))
    if k < 0.78:
        return r.choice([True, False])
    return None


def rvalue(r, depth=0):
    k = r.random()
    if depth > 3 or k < 0.3:
        return rscalar(r)
    if k < 0.6:
        return {r.choice(KEYS) if r.random() < 0.7 else rstr(r): rvalue(r, depth + 1)
                for _ in range(r.randint(0, 5))}
    if k < 0.75:
        # list of dicts sharing keys, like API responses
        keys = [r.choice(KEYS) for _ in range(r.randint(1, 4))]
        return [{kk: rvalue(r, depth + 2) for kk in keys if r.random() < 0.85}
                for _ in range(r.randint(0, 4))]
    return [rvalue(r, depth + 1) for _ in range(r.randint(0, 4))]


def main():
    build = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    formats = (sys.argv[4] if len(sys.argv) > 4 else 'json,text,table,yaml,yaml-stream').split(',')
    r = random.Random(seed)
    driver = os.path.join(build, 'bt-fmtdriver')
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for i in range(count):
            v = rvalue(r)
            path = os.path.join(tmp, '%d.json' % i)
            text = json.dumps(v, ensure_ascii=False)
            for n, lit in enumerate(NUMS):
                text = text.replace('"@@NUM%d@@"' % n, lit)
            with open(path, 'w', encoding='utf-8') as f:
                f.write(text)
            for fmt in formats:
                width = r.choice([80, 80, 80, 40, 120])
                jobs.append(('%d-%s-%d' % (i, fmt, width), fmt, 'T', str(width), path))
        with open(os.path.join(tmp, 'jobs'), 'w') as f:
            for j in jobs:
                f.write('\t'.join(j) + '\n')
        with open(os.path.join(tmp, 'jobs')) as f:
            subprocess.run(['/usr/bin/python3', os.path.join(HERE, 'ref.py'), '--batch', tmp],
                           stdin=f, check=True, stderr=open(os.path.join(tmp, "ref.err"), "w"))
        for cid, fmt, title, width, path in jobs:
            with open(os.path.join(tmp, cid + '.out'), 'rb') as f:
                want = f.read()
            with open(os.path.join(tmp, cid + '.rc')) as f:
                want_rc = int(f.read())
            with open(path, 'rb') as f:
                p = subprocess.run([driver, '--output', fmt, '--title', title, '--width', width],
                                   stdin=f, capture_output=True)
            got_rc = 0 if p.returncode == 0 else 1
            if p.stdout != want or got_rc != want_rc:
                fails += 1
                if fails <= 5:
                    print('=== %s (rc want %d got %d) input: %s' % (cid, want_rc, got_rc,
                                                                   open(path).read()[:600]))
                    wl = want.decode('utf-8', 'replace').splitlines(True)
                    gl = p.stdout.decode('utf-8', 'replace').splitlines(True)
                    import difflib
                    sys.stdout.writelines(list(difflib.unified_diff(wl, gl, 'aws', 'bt'))[:40])
                    sys.stdout.write(p.stderr.decode()[:300])
        if fails:
            sys.stderr.write(open(os.path.join(tmp, 'ref.err')).read()[:1500] + '\n')
    sys.stdout.flush()
    print('fuzz: %d cases, %d differ' % (len(jobs), fails))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
