from __future__ import annotations

import pytest
import torch

from gan_style.models import CycleGAN, ImagePool, build_model


class TestImagePool:
    def test_fills_then_mixes_history(self) -> None:
        pool = ImagePool(size=2, seed=0)
        first = pool.query(torch.full((2, 1, 1, 1), 1.0))
        assert torch.equal(first, torch.full((2, 1, 1, 1), 1.0))  # while filling: returned as is
        new = torch.arange(2.0, 42.0)
        out = torch.cat([pool.query(v.view(1, 1, 1, 1)) for v in new]).flatten()
        from_history = (out != new).sum().item()
        assert 10 < from_history < 30  # about half the time an older image comes back

    def test_size_zero_is_identity(self) -> None:
        x = torch.randn(3, 2, 2, 2)
        assert torch.equal(ImagePool(0).query(x), x)

    def test_state_round_trip_replays_draws(self) -> None:
        pool = ImagePool(size=3, seed=5)
        for _ in range(4):
            pool.query(torch.randn(1, 1, 2, 2))
        other = ImagePool(size=3, seed=99)
        other.load_state_dict(pool.state_dict())
        x = torch.randn(1, 1, 2, 2)
        for _ in range(5):
            assert torch.equal(pool.query(x), other.query(x))


class TestCycleGAN:
    def model(self, make_config, **loss) -> CycleGAN:
        torch.manual_seed(0)
        return build_model(make_config(loss=loss))

    def batch(self) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(0)
        return {
            "A": torch.rand(2, 3, 32, 32, generator=g) * 2 - 1,
            "B": torch.rand(2, 3, 32, 32, generator=g) * 2 - 1,
        }

    def test_generator_losses(self, make_config) -> None:
        model = self.model(make_config)
        losses = model.generator_step(self.batch())
        assert set(losses) == {
            "G/gan_A",
            "G/gan_B",
            "G/cycle_A",
            "G/cycle_B",
            "G/idt_A",
            "G/idt_B",
            "G/total",
        }
        parts = sum(v for k, v in losses.items() if k != "G/total")
        assert losses["G/total"].item() == pytest.approx(parts.item())

    def test_identity_weight_is_relative_to_cycle(self, make_config) -> None:
        model = self.model(make_config, lambda_cycle=10.0, lambda_identity=0.5)
        batch = self.batch()
        losses = model.generator_step(batch)
        expected = (model.G_BA(batch["A"]) - batch["A"]).abs().mean() * 5.0
        assert losses["G/idt_A"].item() == pytest.approx(expected.item(), rel=1e-5)

    def test_no_identity_when_zero(self, make_config) -> None:
        losses = self.model(make_config, lambda_identity=0.0).generator_step(self.batch())
        assert "G/idt_A" not in losses

    @pytest.mark.parametrize("mode", ["lsgan", "vanilla", "hinge", "wgangp"])
    def test_discriminator_losses(self, make_config, mode: str) -> None:
        model = self.model(make_config, gan_mode=mode)
        batch = self.batch()
        model.generator_step(batch)
        losses = model.discriminator_step(batch)
        assert {"D_A/real", "D_A/fake", "D_A/total", "D_B/total", "D/total"} <= set(losses)
        assert ("D_A/gp" in losses) == (mode == "wgangp")
        losses["D/total"].backward()
        assert all(p.grad is not None for p in model.D_A.parameters())
        assert all(p.grad is None for p in model.G_AB.parameters())  # fakes were detached

    def test_discriminator_step_needs_generator_step(self, make_config) -> None:
        with pytest.raises(RuntimeError, match="generator_step first"):
            self.model(make_config).discriminator_step(self.batch())
