"""Official weights files for the metrics' networks: found locally, in torch.hub's cache, or
downloaded there, and checked against the SHA-256 prefix their official names carry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch

from gan_style.errors import EvaluationError


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class OfficialFile:
    what: str  # "FID Inception weights", for messages
    name: str  # the official file name; torch.hub's rule puts its SHA-256 prefix in it
    url: str
    sha256_prefix: str
    option: str  # the command-line option that takes a local copy

    def missing(self, why: str) -> EvaluationError:
        return EvaluationError(
            f"no {self.what}: {why}; download {self.name} from {self.url} "
            f"and pass {self.option} PATH"
        )

    def resolve(self, weights: str | Path | None) -> Path:
        """A local file, else torch.hub's cache, else a download into that cache."""
        if weights is not None and str(weights) != "":
            path = Path(weights)
            if not path.is_file():
                raise self.missing(f"{path} not found")
            return path
        cached = Path(torch.hub.get_dir()) / "checkpoints" / self.name
        if not cached.is_file():
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                torch.hub.download_url_to_file(
                    self.url, str(cached), hash_prefix=self.sha256_prefix, progress=False
                )
            except Exception as e:  # offline: URLError, socket errors, HTTP errors, bad hash
                raise self.missing(f"the download failed ({type(e).__name__})") from None
        return cached

    def checked(self, path: Path, verify: bool) -> str:
        """`path`'s SHA-256; with `verify`, refused unless it is the official file's."""
        digest = sha256_of(path)
        if verify and not self.is_official(digest):
            raise EvaluationError(
                f"{path} is not the official {self.what} (sha256 {digest[:8]}..., expected "
                f"{self.sha256_prefix}...: {self.name} from {self.url}); pass "
                "--unverified-weights to score with it anyway, marked non-standard"
            )
        return digest

    def is_official(self, digest: str) -> bool:
        return digest.startswith(self.sha256_prefix)
