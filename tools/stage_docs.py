"""Gather the repository's Markdown into one tree for ``mkdocs build --strict``.

Docs live next to what they describe (``docs/`` for the project, ``packages/*/docs`` and
each package's README for the packages), so the site is staged: the Markdown files are
copied with their repository paths, plus every local file they link to, and links stay
valid both on GitHub and in the built site.

    python tools/stage_docs.py build/docs-src
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
SOURCES = ["README.md", "docs/**/*.md", "packages/*/README.md", "packages/*/CHANGELOG.md", "packages/*/docs/**/*.md",
           "packages/*/src/**/README.md", "plugins/*/README.md", "plugins/*/CHANGELOG.md"]


def markdown_files() -> list[Path]:
    found: dict[Path, None] = {}
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            if ".nox" not in path.parts and ".venv" not in path.parts:
                found[path] = None
    return list(found)


def stage(out: Path) -> list[str]:
    if out.exists():
        shutil.rmtree(out)
    problems = []
    for md in markdown_files():
        rel = md.relative_to(ROOT)
        target = out / ("index.md" if rel == Path("README.md") else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = md.read_text()
        for link in LINK.findall(text):
            if "://" in link or link.startswith("mailto:"):
                continue
            linked = (md.parent / link).resolve()
            if not linked.exists():
                problems.append(f"{rel}: broken link {link}")
            elif linked == ROOT / "README.md":
                # On the site the root README is the home page, index.md.
                text = text.replace(f"]({link}", f"]({link[: -len('README.md')]}index.md")
            elif linked.is_dir() and (linked / "README.md").exists():
                # GitHub shows a folder's README; the site needs the file itself.
                text = text.replace(f"]({link})", f"]({link.rstrip('/')}/README.md)")
            elif linked.is_file() and linked.suffix != ".md":
                dest = out / linked.relative_to(ROOT)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(linked, dest)
        target.write_text(text)
    return problems


if __name__ == "__main__":
    problems = stage(Path(sys.argv[1] if len(sys.argv) > 1 else "build/docs-src"))
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)
