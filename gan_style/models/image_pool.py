"""History of generated images shown to the discriminator (Shrivastava et al. 2017)."""

from __future__ import annotations

import torch


class ImagePool:
    """Returns, per image, either the new fake or (half the time, once full) an older one.

    Uses its own seeded generator, and its images and RNG state go into checkpoints, so that a
    resumed run draws exactly what an uninterrupted one would.
    """

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []
        self.rng = torch.Generator().manual_seed(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.rng) < 0.5:
                i = int(torch.randint(self.size, (), generator=self.rng))
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict:
        images = torch.cat(self.images).cpu() if self.images else torch.empty(0)
        return {"images": images, "rng": self.rng.get_state()}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.images = [img.unsqueeze(0).to(device) for img in state["images"]]
        self.rng.set_state(state["rng"])
