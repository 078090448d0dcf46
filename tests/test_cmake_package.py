"""C++ users build against the installed core: find_package(rentrade) from another CMake project."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from rentrade import cmake as rentrade_cmake

CONSUMER = Path(__file__).parent / "cmake_consumer"


def _tool(name: str) -> str:
    # pip's cmake and ninja land beside the interpreter of the virtualenv; PATH may not have them.
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    assert found is not None, f"{name} is not installed: the test extra brings it (pip install '.[test]')"
    return found


def test_config_and_headers_are_installed() -> None:
    cmake_dir = Path(rentrade_cmake.get_cmake_dir())
    assert (cmake_dir / "rentradeConfig.cmake").is_file()
    assert (cmake_dir / "rentradeConfigVersion.cmake").is_file()
    include = Path(rentrade_cmake.get_include())
    assert (include / "fastcore" / "book" / "book.hpp").is_file()
    assert (include / "fastcore" / "engine" / "order.hpp").is_file()


def test_find_package_builds_and_runs_a_consumer(tmp_path: Path) -> None:
    cmake = _tool("cmake")
    ninja = _tool("ninja")
    build = tmp_path / "build"
    args = [cmake, "-S", str(CONSUMER), "-B", str(build), "-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"]
    args += [f"-Drentrade_DIR={rentrade_cmake.get_cmake_dir()}", "-DCMAKE_BUILD_TYPE=Release"]
    configure = subprocess.run(args, capture_output=True, text=True, check=False)
    assert configure.returncode == 0, configure.stdout + configure.stderr
    built = subprocess.run([cmake, "--build", str(build)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    ran = subprocess.run([str(build / "consumer")], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # 65000.1 / 0.1 = 650001 ticks, 65000.3 -> 650003: two ticks of spread.
    assert ran.stdout.strip() == "bid=650001 ask=650003 spread=2"


def test_module_prints_the_cmake_dir() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rentrade.cmake"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == rentrade_cmake.get_cmake_dir()
