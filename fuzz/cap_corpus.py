#!/usr/bin/env python3
"""Cap a committed corpus: cap_corpus.py TARGET CAP (needs nightly and cargo-fuzz).

Keeps every named seed (generated, some checked against a stated decision by the replay test),
then the fuzzer's inputs (40-hex names) that add the most new coverage edges, largest gain
first, until none adds an edge or CAP files are kept; removes the other fuzzer inputs. Each
input's edges come from the COV lines of a libFuzzer merge control file (a `-merge=1` into a
throwaway directory). Prints how many of the corpus's edges the kept files cover.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    target, cap = sys.argv[1], int(sys.argv[2])
    corpus = os.path.join(ROOT, "fuzz", "corpus", target)
    tmp = tempfile.mkdtemp(prefix=f"cap-{target}-")
    try:
        control, out = os.path.join(tmp, "control"), os.path.join(tmp, "out")
        os.mkdir(out)
        subprocess.run(
            ["cargo", "+nightly", "fuzz", "run", target, out, corpus, "--",
             "-merge=1", f"-merge_control_file={control}"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        lines = open(control).read().split("\n")
        count = int(lines[0])
        files = lines[2:2 + count]
        edges: dict[int, set[str]] = {}
        for line in lines[2 + count:]:
            parts = line.split()
            if parts and parts[0] == "COV":
                edges[int(parts[1])] = set(parts[2:])
    finally:
        shutil.rmtree(tmp)
    found_name = re.compile(r"^[0-9a-f]{40}$")
    found = [i for i in range(count) if found_name.match(os.path.basename(files[i]))]
    named = [i for i in range(count) if i not in set(found)]
    total = set().union(*edges.values())
    kept = len(named)
    covered = set().union(*(edges.get(i, set()) for i in named))
    while kept < cap and found:
        best = max(found, key=lambda i: (len(edges.get(i, set()) - covered),
                                         -os.path.getsize(files[i])))
        if not edges.get(best, set()) - covered:
            break
        covered |= edges[best]
        found.remove(best)
        kept += 1
    for i in found:
        os.remove(files[i])
    share = 100 * len(covered) / max(len(total), 1)
    print(f"{kept} files keep {len(covered)} of {len(total)} edges ({share:.1f}%)")


if __name__ == "__main__":
    main()
