"""The web page's handlers, called directly: valid uploads, and every kind of bad one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_style.app.handlers import (
    ModelCache,
    StyleChoice,
    compare_checkpoints,
    stylize_upload,
    translate_uploads,
)
from gan_style.cli import main
from gan_style.image_io import load_image
from gan_style.inference import load_generators, translate_images
from gan_style.training.loop import train
from tests.conftest import header_bomb, write_images
from tests.models.test_multistyle import styled_config

pytestmark = pytest.mark.slow


@pytest.fixture
def models(run_dir: Path) -> ModelCache:
    return ModelCache([run_dir], "cpu")


def uploads(folder: Path) -> dict[str, Path]:
    """Good images of two sizes and a 1x1, plus a corrupt file, a text file and a bomb header."""
    write_images(folder, 2, size=(37, 53), seed=7)
    Image.fromarray(np.full((1, 1, 3), 200, np.uint8)).save(folder / "dot.png")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (folder / "notes.txt").write_text("not an image")
    (folder / "bomb.png").write_bytes(header_bomb())
    return {p.name: p for p in folder.iterdir()}


def test_translates_each_upload_at_its_size_as_translate_does(
    models: ModelCache, run_dir: Path, tmp_path: Path
) -> None:
    files = uploads(tmp_path / "in")
    good = ["img_000.png", "img_001.png", "dot.png"]
    result = translate_uploads(models, [str(files[n]) for n in good], "tiny/t")
    assert result.messages == ["translated 3 of 3 image(s)"] and len(result.downloads) == 3
    assert main(["translate", str(run_dir), *(str(files[n]) for n in good),
                 "--out", str(tmp_path / "cli")]) == 0  # fmt: skip
    for name, download in zip(good, result.downloads, strict=True):
        page, cli = load_image(download), load_image(tmp_path / "cli" / name)
        assert page.shape == load_image(files[name]).shape and np.array_equal(page, cli)


def test_bad_uploads_are_named_and_the_others_still_translated(
    models: ModelCache, tmp_path: Path
) -> None:
    files = uploads(tmp_path / "in")
    order = ["corrupt.png", "img_000.png", "notes.txt", "bomb.png", "dot.png"]
    result = translate_uploads(models, [str(files[n]) for n in order], "tiny/t")
    assert result.messages[0] == "translated 2 of 5 image(s)" and len(result.downloads) == 2
    twins = [str(files["img_000.png"]), str(tmp_path / "img_000.jpg")]
    Image.open(files["img_001.png"]).save(twins[1])
    both = translate_uploads(models, twins, "tiny/t")  # one output name, two files: both kept
    assert len(set(both.downloads)) == 2 and both.messages == ["translated 2 of 2 image(s)"]
    problems = "\n".join(result.messages[1:])
    assert problems.count("\n") == 2 and "Traceback" not in problems
    assert "corrupt.png: cannot read image" in problems and "notes.txt: cannot read" in problems
    assert "bomb.png" in problems and "megapixel" in problems.lower()
    assert str(tmp_path) not in problems  # upload names only, not the server's paths


def test_wrong_choices_give_a_message(models: ModelCache, tmp_path: Path) -> None:
    files = uploads(tmp_path / "in")
    one = [str(files["img_000.png"])]
    assert translate_uploads(models, [], "tiny/t").message == "upload one or more images first"
    assert "unknown model 'nope'" in translate_uploads(models, one, "nope").message
    assert "no checkpoint 'step_9'" in translate_uploads(models, one, "tiny/t", "step_9").message
    assert (
        "not a multistyle model"
        in translate_uploads(models, one, "tiny/t", style=StyleChoice(image=one[0])).message
    )


def test_checkpoints_are_listed_and_loaded_once(models: ModelCache, run_dir: Path) -> None:
    source = models.sources["tiny/t"]
    assert list(source.checkpoints)[:2] == ["generator", "latest"]
    assert {"step_0000002", "step_0000004"} <= set(source.checkpoints)
    assert models.get("tiny/t") is models.get("tiny/t", "generator")
    assert "experiment tiny, model cycle_gan, step 4; translates AtoB and BtoA" in models.describe(
        "tiny/t"
    )
    with pytest.raises(Exception, match="holds no checkpoints"):
        ModelCache([run_dir / "samples"])


def test_tiling_and_the_other_direction(models: ModelCache, tmp_path: Path) -> None:
    files = uploads(tmp_path / "in")
    one = [str(files["img_000.png"])]
    tiled = translate_uploads(models, one, "tiny/t", tile=32)
    assert load_image(tiled.downloads[0]).shape == (37, 53, 3)
    back = translate_uploads(models, one, "tiny/t", direction="BtoA")
    whole = translate_uploads(models, one, "tiny/t")
    assert not np.array_equal(load_image(back.downloads[0]), load_image(whole.downloads[0]))


def test_compare_scores_against_the_ground_truth_or_the_input(
    models: ModelCache, tmp_path: Path
) -> None:
    files = uploads(tmp_path / "in")
    picks = ["tiny/t · step_0000002", "tiny/t · latest"]
    paired = compare_checkpoints(
        models, str(files["img_000.png"]), picks, str(files["img_001.png"])
    )
    assert [c.split(" · ")[:2] for _, c in paired.pairs] == [p.split(" · ") for p in picks]
    assert all("paired SSIM" in c for _, c in paired.pairs) and paired.messages == []
    assert not np.array_equal(*(load_image(p) for p, _ in paired.pairs))
    content = compare_checkpoints(models, str(files["img_000.png"]), picks[:1])
    assert "content SSIM" in content.pairs[0][1]
    odd = compare_checkpoints(models, str(files["img_000.png"]), picks[:1], str(files["dot.png"]))
    assert "content SSIM" in odd.pairs[0][1] and "differs in size" in odd.message
    bad = compare_checkpoints(models, str(files["corrupt.png"]), picks)
    assert bad.pairs == [] and "cannot read image" in bad.message


def test_multistyle_name_blend_and_image(styled_root: Path, tmp_path: Path) -> None:
    root = styled_root
    run = train(styled_config(root, tmp_path / "runs", train={"max_steps": 1}), run="s")
    models = ModelCache([run])
    photo = [str(root / "testA" / "img_000.png")]
    by_name = translate_uploads(models, photo, "styles/s", style=StyleChoice(name="ukiyoe"))
    blended = translate_uploads(models, photo, "styles/s", style=StyleChoice(blend=[0.0, 1.0]))
    assert np.array_equal(load_image(by_name.downloads[0]), load_image(blended.downloads[0]))
    mixed = translate_uploads(models, photo, "styles/s", style=StyleChoice(blend=[0.5, 0.5]))
    assert not np.array_equal(load_image(mixed.downloads[0]), load_image(by_name.downloads[0]))
    example = StyleChoice(image=str(root / "trainB" / "monet" / "img_000.png"))
    assert len(translate_uploads(models, photo, "styles/s", style=example).downloads) == 1
    zero = translate_uploads(models, photo, "styles/s", style=StyleChoice(blend=[0.0, 0.0]))
    assert zero.downloads == [] and "at least one style weight above 0" in zero.message
    gens = load_generators(run)
    direct = translate_images(gens.G_AB, [load_image(photo[0])], gens.multiple, 1,
                              gens.style_code("ukiyoe"))[0]  # fmt: skip
    assert np.array_equal(direct, load_image(by_name.downloads[0]))


def test_stylize_with_and_without_vgg_weights(tmp_path: Path) -> None:
    files = uploads(tmp_path / "in")
    content, style = str(files["img_000.png"]), str(files["img_001.png"])
    missing = stylize_upload(content, [style], vgg_weights=tmp_path / "vgg19.pth")
    assert missing.downloads == [] and "VGG-19 weights file" in missing.message
    assert "upload a content image" in stylize_upload(None, [style]).message
    result = stylize_upload(content, [style, content], size=32, iterations=2, vgg_weights="random")
    assert load_image(result.downloads[0]).shape[:2] == (22, 32)  # 37x53: long side 32
    bad = stylize_upload(content, [str(files["notes.txt"])], vgg_weights="random")
    assert "cannot read image" in bad.message


def test_serve_command_binds_loopback_and_warns_otherwise(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from gan_style.app import page

    calls = []
    monkeypatch.setattr(page, "serve", lambda *a, **k: calls.append(a))
    assert main(["serve", str(run_dir), "--device", "cpu"]) == 0
    assert calls[-1][1:3] == ("127.0.0.1", 7860) and "warning" not in capsys.readouterr().err
    assert main(["serve", str(run_dir), "--host", "0.0.0.0", "--port", "8000"]) == 0
    assert calls[-1][1:3] == ("0.0.0.0", 8000)
    assert "warning: serving on 0.0.0.0 with no login: add --auth" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(["serve", str(tmp_path / "nothing.pt"), "--device", "cpu"]) == 2
    assert "nothing.pt not found" in capsys.readouterr().err


def test_a_full_disk_and_the_request_folders(
    models: ModelCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page says the server's disk is full, in its Messages box; each request writes in a
    folder of its own, and closing removes them all, once no job is in flight."""
    from gan_style import image_io
    from gan_style.app.outputs import OutputFolders
    from tests.test_faults import full_when

    write_images(tmp_path / "in", 2, size=(37, 53))
    paths = [str(p) for p in sorted((tmp_path / "in").iterdir())]
    outputs = OutputFolders(tmp_path / "served")
    done = translate_uploads(models, paths, "tiny/t", outputs=outputs)
    again = translate_uploads(models, paths[:1], "tiny/t", outputs=outputs)
    assert Path(done.downloads[0]).parent.parent != Path(again.downloads[0]).parent.parent
    with monkeypatch.context() as m:
        m.setattr(image_io, "write_atomic", full_when(image_io.write_atomic, lambda p: True))
        full = translate_uploads(models, paths, "tiny/t", outputs=outputs)
    assert full.messages[0] == "translated 0 of 2 image(s)"
    assert full.messages[1].startswith("the server's disk is full (") and len(full.messages) == 2
    assert not [p for p in outputs.base.rglob("*.tmp")]
    with outputs.job():
        assert not outputs.close(wait_s=0.1)  # a job in flight: its files stay
    assert outputs.close() and not outputs.base.exists()
    refused = translate_uploads(models, paths, "tiny/t", outputs=outputs)
    assert "the server is stopping" in refused.message


def test_the_draw_tab_paints_what_translate_makes_of_the_drawing(
    models: ModelCache, run_dir: Path, tmp_path: Path
) -> None:
    """The canvas (transparent, with black strokes) is flattened on white and translated as
    `gan-style translate` translates that PNG; bad canvases get one line each."""
    from gan_style.app.handlers import canvas_image, paint_drawing

    canvas = np.zeros((40, 36, 4), np.uint8)  # transparent
    canvas[10:13, 4:30] = (0, 0, 0, 255)  # a stroke
    flat = canvas_image({"background": None, "layers": [], "composite": canvas})
    assert flat.shape == (40, 36, 3) and (flat[0, 0] == 255).all() and (flat[11, 10] == 0).all()
    result = paint_drawing(models, {"composite": canvas}, "tiny/t")
    assert result.messages == ["translated 1 of 1 image(s)"]
    painting, drawing = result.downloads
    assert main(["translate", str(run_dir), drawing, "--out", str(tmp_path / "cli")]) == 0
    assert Path(painting).name == "result.png" and Path(drawing).name == "drawing.png"
    assert np.array_equal(load_image(painting), load_image(tmp_path / "cli" / "drawing.png"))
    assert np.array_equal(load_image(drawing), flat)

    empty = paint_drawing(models, {"composite": np.zeros((40, 36, 4), np.uint8)}, "tiny/t")
    assert empty.message == "draw on the canvas or upload a drawing first"
    assert paint_drawing(models, None, "tiny/t").message == empty.message
    dot = paint_drawing(models, np.zeros((1, 1, 3), np.uint8), "tiny/t")  # one black pixel
    assert dot.messages == ["translated 1 of 1 image(s)"]
    huge = paint_drawing(models, np.zeros((300, 400, 3), np.uint8), "tiny/t", max_pixels=10_000)
    assert "above the page's limit of 0.01 megapixels" in huge.message


def test_the_enhance_tab_shows_an_enlargement_beside_bicubic(tmp_path: Path) -> None:
    """An enlarger's result, as translate makes it, beside the upload's bicubic enlargement of
    the same size; a restorer's beside the upload; only restoration models are offered."""
    from gan_style.app.handlers import enhance_uploads, enhancers
    from gan_style.evaluation.baselines import enlarged
    from tests.data.test_restoration import restoration_config

    root = tmp_path / "photos"
    write_images(root / "train", 3, seed=1)
    write_images(root / "test", 1, seed=2)
    enlarger = train(restoration_config(root, tmp_path / "runs", model={"upscale": 2}), run="x2")
    restorer = train(restoration_config(root, tmp_path / "runs"), run="r")
    models = ModelCache([enlarger, restorer])
    assert enhancers(models) == ["tiny/x2", "tiny/r"]
    files = uploads(tmp_path / "in")
    both = [str(files["img_000.png"]), str(files["corrupt.png"])]
    shown = enhance_uploads(models, both, "tiny/x2")
    assert shown.messages[0] == "translated 1 of 2 image(s)" and "corrupt.png" in shown.messages[1]
    ((bicubic, result),) = shown.pairs
    upload = load_image(files["img_000.png"])
    assert np.array_equal(load_image(bicubic), enlarged(upload, 2))
    assert load_image(result).shape == (74, 106, 3) and shown.downloads == [result]
    cli = ["translate", str(enlarger), both[0], "--out", str(tmp_path / "c")]
    assert main(cli) == 0
    assert np.array_equal(load_image(result), load_image(tmp_path / "c" / "img_000.png"))
    restored = enhance_uploads(models, [both[0]], "tiny/r")
    assert restored.pairs[0][0] == both[0]
