"""train.ema_decay: the average itself, exact resume, and which weights inference reads."""

from __future__ import annotations

import pytest
import torch

from gan_style.cli import main
from gan_style.image_io import load_image
from gan_style.inference import load_generators, translate_images
from gan_style.models import build_model
from gan_style.runtime import checkpoint as ckpt
from gan_style.training.ema import GeneratorEMA, warm_decay
from gan_style.training.loop import train
from tests.conftest import write_images
from tests.training.test_loop import tensors_of

pytestmark = pytest.mark.slow


def test_the_average_by_hand(make_config) -> None:
    """Three updates with weights w1, w2, w3: the first copies, then each step moves the average
    by 1 - beta_n of the way, beta_n = min(decay, (1 + n) / (10 + n)), n = updates so far."""
    model = build_model(make_config())
    ema = GeneratorEMA(model, decay=0.5)
    weight = model.G_AB.model[1].weight
    seen = []
    for value in (1.0, 2.0, 4.0):
        with torch.no_grad():
            weight.fill_(value)
        ema.update()
        seen.append(ema.averaged["G_AB"].model[1].weight.flatten()[0].item())
    b1, b2 = warm_decay(0.5, 1), warm_decay(0.5, 2)  # 2/11 and 3/12: below 0.5 early on
    first = 1.0
    second = first + (2.0 - first) * (1 - b1)
    third = second + (4.0 - second) * (1 - b2)
    assert seen == pytest.approx([first, second, third])
    assert warm_decay(0.999, 10_000) == 0.999


def test_resume_is_exact_and_inference_reads_the_average(make_config, tmp_path) -> None:
    ema = {"ema_decay": 0.9}
    straight = train(make_config(train={"max_steps": 6, **ema}), run="straight")
    train(make_config(train={"max_steps": 3, **ema}), run="resumed")
    resumed = train(make_config(train={"max_steps": 6, **ema}), run="resumed")
    a, b = tensors_of(straight / "latest.pt"), tensors_of(resumed / "latest.pt")
    assert [k for k in a if k.startswith("ema.")] and all(torch.equal(a[k], b[k]) for k in a)

    state = ckpt.load(straight / "latest.pt")
    averaged, trained = ckpt.ema_weights(state)["G_AB"], state["model"]
    key = "model.1.weight"
    assert not torch.equal(averaged[key], trained[f"G_AB.{key}"])  # the average lags behind
    generator_file = ckpt.load(straight / ckpt.GENERATOR)
    assert torch.equal(generator_file["G_AB"][key], averaged[key])
    for source in (straight / "latest.pt", straight / ckpt.GENERATOR):
        assert torch.equal(load_generators(source).G_AB.state_dict()[key], averaged[key])

    write_images(tmp_path / "in", 1)
    assert main(["translate", str(straight), str(tmp_path / "in"), "--out",
                 str(tmp_path / "out"), "--device", "cpu"]) == 0  # fmt: skip
    gens = load_generators(straight / "latest.pt")
    photo = load_image(tmp_path / "in" / "img_000.png")
    expected = translate_images(gens.G_AB, [photo], gens.multiple)[0]
    assert (load_image(tmp_path / "out" / "img_000.png") == expected).all()


def test_samples_and_scores_use_the_average_and_training_continues_on_its_own(
    make_config,
) -> None:
    plain = train(make_config(train={"max_steps": 4}), run="plain")
    averaged = train(make_config(train={"max_steps": 4, "ema_decay": 0.9}), run="ema")
    # The trained networks are the same with or without an average: it only watches.
    a, b = tensors_of(plain / "latest.pt"), tensors_of(averaged / "latest.pt")
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith("model."))
    assert (averaged / "samples" / "step_0000004.png").is_file()


def test_the_average_is_swapped_in_only_at_sample_and_score_steps(make_config, monkeypatch) -> None:
    """Swapping copies every generator twice; once per step it cost ~15% of a demo iteration."""
    swaps = []
    swapped_in = GeneratorEMA.swapped_in

    def counted(self):
        swaps.append(1)
        return swapped_in(self)

    monkeypatch.setattr(GeneratorEMA, "swapped_in", counted)
    train(make_config(train={"max_steps": 6, "ema_decay": 0.9}, log={"sample_every": 3}), run="s")
    assert len(swaps) == 2  # steps 3 and 6 (the last); none at the other four


def test_decay_out_of_range_is_refused(make_config) -> None:
    from gan_style.errors import ConfigError

    with pytest.raises(ConfigError, match=r"train.ema_decay must be in \[0, 1\)"):
        make_config(train={"ema_decay": 1.0})
