"""Build the optional compiled tag scan (`_tagscan.c`) in place, next to its source.

    python feed/platforms/tagscan_build.py     # `make install` runs it after the pip step

One compiler call with the interpreter's own include directory, link command and file suffix
(sysconfig), so no build tool is needed. The file is written under a temporary name and then
renamed, so a running process never loads half of it. Without a compiler, or if the build
fails, this prints one line, removes any older build and exits 0: html_tags.py then uses its
Python loop (and logs so).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

SOURCE = Path(__file__).resolve().with_name("_tagscan.c")


def extension_path() -> Path:
    return SOURCE.with_name("_tagscan" + sysconfig.get_config_var("EXT_SUFFIX"))


def build_command(target: Path) -> list[str]:
    """LDSHARED compiles and links in one step (`cc -shared ...`, or `-bundle` on macOS)."""
    linker = shlex.split(sysconfig.get_config_var("LDSHARED") or "cc -shared")
    include = sysconfig.get_paths()["include"]
    return [*linker, "-O2", "-fPIC", f"-I{include}", str(SOURCE), "-o", str(target)]


def main() -> int:
    target = extension_path()
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        subprocess.run(build_command(partial), check=True, capture_output=True)
        os.replace(partial, target)
        return 0
    except subprocess.CalledProcessError as error:  # the compiler's first complaint
        reason = (error.stderr.decode(errors="replace").strip().splitlines() or ["failed"])[0]
    except OSError as error:  # no compiler
        reason = str(error)
    partial.unlink(missing_ok=True)
    target.unlink(missing_ok=True)  # one built from an older source is not the code any more
    print(f"{SOURCE.name} not built ({reason}): the pure-Python tag scan will be used")
    return 0


if __name__ == "__main__":
    sys.exit(main())
