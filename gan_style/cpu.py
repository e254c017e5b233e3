"""What this CPU can do, read without PyTorch: its instruction-set flags, as Linux lists them."""

from __future__ import annotations

CPUINFO = "/proc/cpuinfo"


def cpu_flags(cpuinfo: str = CPUINFO) -> frozenset[str]:
    """The flags of `cpuinfo`'s first processor (`avx2`, `avx512f`, `avx512_vnni`, ...); empty
    where the file cannot be read (not Linux), so callers fall back to their portable choice."""
    try:
        with open(cpuinfo) as f:
            line = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return frozenset()
    return frozenset(line.partition(":")[2].split())


def has_amx(cpuinfo: str = CPUINFO) -> bool:
    """Whether this CPU has AMX's bf16 matrix units (Intel Xeon from Sapphire Rapids on)."""
    return "amx_bf16" in cpu_flags(cpuinfo)
