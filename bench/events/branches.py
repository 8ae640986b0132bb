#!/usr/bin/env python3
"""Streams `git fast-import` input for bench/run-events: COUNT one-commit feature branches
refs/heads/feature/e-NNNN, each a child of OID (already in the repository) that changes one file
of bench/gen-history.py's layout, dated from TIME a second apart (python3 standard library only).

  branches.py --from OID --count COUNT --time TIME | git fast-import --date-format=raw
"""

import argparse
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="parent", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--time", type=int, required=True)
    args = parser.parse_args()
    out = []
    for number in range(args.count):
        when = args.time + number
        message = f"fix retry loop (event bench {number})\n\nOne commit per branch.\n".encode()
        path = f"src/m{number % 20:02d}/p{number // 20 % 15:02d}/file{number % 10:02d}.c"
        blob = f"// {path}\n// event bench {number}\nint v = {number};\n".encode()
        out.append(f"commit refs/heads/feature/e-{number:04d}\n"
                   f"author Ada Lovelace <ada@example.com> {when} +0000\n"
                   f"committer Ada Lovelace <ada@example.com> {when} +0000\n".encode())
        out.append(b"data %d\n%s\n" % (len(message), message))
        out.append(f"from {args.parent}\nM 100644 inline {path}\n".encode())
        out.append(b"data %d\n%s\n\n" % (len(blob), blob))
    out.append(b"done\n")
    sys.stdout.buffer.write(b"".join(out))


if __name__ == "__main__":
    main()
