"""Where the installed C++ core lives, for C++ projects that build against it.

``python -m rentrade.cmake`` prints the folder to pass as ``-Drentrade_DIR=...`` so that
``find_package(rentrade CONFIG REQUIRED)`` finds the ``rentrade::fastcore`` target (headers and static
library installed with the package by pip).
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _existing(path: Path, what: str) -> str:
    if not path.is_dir():
        raise FileNotFoundError(
            f"rentrade's {what} is not at {path}: this install has no C++ development files "
            "(was it installed from a wheel built by pip install .?)"
        )
    return str(path)


def get_cmake_dir() -> str:
    """Return the folder holding ``rentradeConfig.cmake`` (pass it as ``-Drentrade_DIR``).

    Raises
    ------
    FileNotFoundError
        If the package was installed without the C++ development files.
    """
    return _existing(_PACKAGE_DIR / "lib" / "cmake" / "rentrade", "CMake package config")


def get_include() -> str:
    """Return the include folder holding the ``fastcore/`` headers."""
    return _existing(_PACKAGE_DIR / "include", "header folder")


def main() -> int:
    """Print :func:`get_cmake_dir` (``python -m rentrade.cmake``)."""
    print(get_cmake_dir())
    return 0


if __name__ == "__main__":
    sys.exit(main())
