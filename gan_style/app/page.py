"""The Gradio page of `gan-style serve`: widgets wired to `handlers`, nothing else.

Tabs: Translate, Draw, Enhance, Video, Live, Compare, Stylize. Jobs run one at a time and
queue up to a bound (beyond it a request is told the queue is full and to try again), show
progress and can be stopped; uploads are size-limited before they are read; the page loads
no asset from the internet (system fonts, no analytics).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gan_style.app.clips import LIVE_SIZES, MAX_CLIP_SECONDS, live_frame, translate_clip
from gan_style.app.handlers import (
    ModelCache,
    StyleChoice,
    compare_checkpoints,
    enhance_uploads,
    enhancers,
    paint_drawing,
    stylize_upload,
    translate_uploads,
)
from gan_style.app.outputs import OutputFolders
from gan_style.errors import GanStyleError
from gan_style.networks.generators import has_strength_dial
from gan_style.video.steadying import Steadier

# Before Gradio is imported: no usage reports, no hub lookups.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONCURRENCY = 1  # jobs at once per button: CPU inference already uses every core
LIVE_SECONDS = 600  # one visitor's camera stream at a time, for at most this long
STYLE_MODES = ("one style", "blend", "style image")


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server: with one job at a time, its memory is the
    models' plus one image of `max_megapixels` on its way through a generator."""

    max_upload_mb: float = 25.0  # per file, refused before it is read
    max_megapixels: float = 16.0  # per image, read from its header before it is decoded
    queue_size: int = 32  # waiting jobs beyond this are told to try again

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1e6)


def _theme():
    import gradio as gr

    system = ["ui-sans-serif", "system-ui", "sans-serif"]
    return gr.themes.Default(font=system, font_mono=["ui-monospace", "monospace"])


def build_page(
    models: ModelCache,
    vgg_weights: str | Path | None = None,
    device: str = "cpu",
    limits: Limits = Limits(),
    outputs: OutputFolders | None = None,
):
    """The page as a `gr.Blocks`; `launch` serves it."""
    import gradio as gr

    outputs = outputs or OutputFolders()

    labels = list(models.sources)
    tracked = gr.Progress(track_tqdm=True)  # the package's tqdm bars, shown on the page
    most_styles = max([len(models.get(label).styles) for label in labels] + [0])

    def style_widgets(label: str, how: str) -> list:
        """Which style inputs show: a name, one slider per style, or an example image."""
        styles = models.get(label).styles
        sliders = [
            gr.update(visible=bool(styles) and how == "blend" and i < len(styles),
                      label=styles[i] if i < len(styles) else "")
            for i in range(most_styles)
        ]  # fmt: skip
        return [
            gr.update(visible=bool(styles) and how == STYLE_MODES[0]),
            gr.update(visible=bool(styles) and how == "style image"),
            *sliders,
        ]

    def describe(label: str, name: str | None) -> str:
        try:
            return models.describe(label, name or None)
        except GanStyleError as e:
            return str(e)

    def model_widgets(label: str) -> list:
        gens = models.get(label)
        names = list(models.sources[label].checkpoints)
        styled = bool(gens.styles)
        return [
            gr.update(value=models.describe(label)),
            gr.update(choices=names, value=names[0]),
            gr.update(visible=gens.G_BA is not None, value="AtoB"),
            gr.update(visible=styled, value=STYLE_MODES[0]),
            gr.update(choices=gens.styles, value=(gens.styles or [None])[0], visible=styled),
            gr.update(visible=has_strength_dial(gens.G_AB), value=1.0),
            *style_widgets(label, STYLE_MODES[0])[1:],
        ]

    with gr.Blocks(title="gan_style") as page:
        gr.Markdown("# gan_style\nDrop a photo, pick a model and a style, download the result.")
        with gr.Tab("Translate"):
            with gr.Row():
                with gr.Column():
                    files = gr.File(label="Images", file_count="multiple", elem_id="uploads")
                    model = gr.Dropdown(labels, value=labels[0], label="Model")
                    info = gr.Markdown(models.describe(labels[0]))
                    names = list(models.sources[labels[0]].checkpoints)
                    checkpoint = gr.Dropdown(names, value=names[0], label="Checkpoint")
                    direction = gr.Radio(["AtoB", "BtoA"], value="AtoB", label="Direction")
                    mode = gr.Radio(
                        list(STYLE_MODES), value=STYLE_MODES[0], label="Style", elem_id="mode"
                    )
                    style = gr.Dropdown(label="Style name")
                    sliders = [
                        gr.Slider(
                            0,
                            1,
                            step=0.05,
                            value=1.0 if i == 0 else 0.0,
                            visible=False,
                            elem_id=f"weight{i}",
                        )
                        for i in range(most_styles)
                    ]
                    style_image = gr.File(label="Style image", file_count="single")
                    strength = gr.Slider(
                        0, 2, step=0.05, value=1.0, elem_id="strength",
                        label="Strength: 0 = the photo, 1 = as trained, above 1 = stronger",
                    )  # fmt: skip
                    tile = gr.Slider(
                        0, 2048, step=32, value=0, label="Tile size for large images (0 = whole)"
                    )
                    with gr.Row():
                        run = gr.Button("Translate", variant="primary", elem_id="translate")
                        stop = gr.Button("Stop")
                with gr.Column():
                    shown = gr.Gallery(label="Input | output", columns=2, elem_id="pairs")
                    downloads = gr.File(label="Download (PNG, input's size)", elem_id="downloads")
                    status = gr.Textbox(label="Messages", lines=3, elem_id="status")
            widgets = [info, checkpoint, direction, mode, style, strength, style_image, *sliders]
            model.change(model_widgets, model, widgets)
            checkpoint.change(describe, [model, checkpoint], info)
            page.load(model_widgets, model, widgets)
            mode.change(style_widgets, [model, mode], [style, style_image, *sliders])

            def do_translate(uploads, label, ckpt_name, way, how, name, image, size, *rest,
                             progress=tracked):  # fmt: skip
                *weights, dial = rest  # the style sliders, then the strength (last: API order)
                choice = StyleChoice(
                    name=name if how == STYLE_MODES[0] else None,
                    blend=[float(w) for w in weights] if how == "blend" else None,
                    image=image if how == "style image" else None,
                )  # fmt: skip
                paths = [str(u) for u in uploads or []]
                progress(0, desc="translating")
                result = translate_uploads(
                    models, paths, label, ckpt_name, way, choice, int(size or 0),
                    limits.max_pixels, outputs, float(1.0 if dial is None else dial),
                )  # fmt: skip
                pictures = [p for pair in result.pairs for p in pair]
                return pictures, result.downloads or None, result.message

            asked = [files, model, checkpoint, direction, mode, style, style_image, tile]
            job = run.click(
                do_translate,
                [*asked, *sliders, strength],
                [shown, downloads, status],
                concurrency_limit=CONCURRENCY,
                api_name="translate",
            )
            stop.click(None, None, None, cancels=[job])

        draw_tab(models, limits, outputs, tracked)
        enhance_tab(models, limits, outputs, tracked)
        video_tab(models, limits, outputs, tracked)
        live_tab(models)

        with gr.Tab("Compare"):
            options = [f"{label} · {name}" for label in labels
                       for name in models.sources[label].checkpoints]  # fmt: skip
            with gr.Row():
                with gr.Column():
                    one = gr.File(label="Input image", file_count="single")
                    truth = gr.File(label="Ground truth (optional)", file_count="single")
                    picked = gr.CheckboxGroup(options, value=options[:2], label="Checkpoints")
                    compare_way = gr.Radio(["AtoB", "BtoA"], value="AtoB", label="Direction")
                    compare = gr.Button("Compare", variant="primary")
                with gr.Column():
                    compared = gr.Gallery(label="Outputs", columns=3)
                    compare_status = gr.Textbox(label="Messages", lines=3)

            def do_compare(upload, chosen, target, way, progress=tracked):
                progress(0, desc="translating")
                result = compare_checkpoints(
                    models, upload, chosen or [], target, way, limits.max_pixels, outputs
                )
                return result.pairs, result.message

            compare.click(do_compare, [one, picked, truth, compare_way],
                          [compared, compare_status], concurrency_limit=CONCURRENCY,
                          api_name="compare")  # fmt: skip

        with gr.Tab("Stylize"):
            with gr.Row():
                with gr.Column():
                    content = gr.File(label="Content image", file_count="single")
                    style_files = gr.File(label="Style image(s)", file_count="multiple")
                    size = gr.Slider(64, 1024, step=32, value=256, label="Size (long side, px)")
                    iterations = gr.Slider(10, 1000, step=10, value=100, label="Iterations")
                    weight = gr.Number(1e6, label="Style weight")
                    colours = gr.Radio(["none", "luminance", "histogram"], value="none",
                                       label="Preserve the content's colours")  # fmt: skip
                    with gr.Row():
                        go = gr.Button("Stylize", variant="primary")
                        halt = gr.Button("Stop")
                with gr.Column():
                    stylized = gr.Gallery(label="Content | result", columns=2)
                    stylized_file = gr.File(label="Download")
                    stylize_status = gr.Textbox(label="Messages", lines=3)

            def do_stylize(c, s, px, its, w, keep, progress=tracked):
                result = stylize_upload(
                    c, [str(p) for p in s or []], int(px), int(its), float(w), keep,
                    vgg_weights, device, limits.max_pixels, outputs,
                )  # fmt: skip
                pictures = [p for pair in result.pairs for p in pair]
                return pictures, result.downloads or None, result.message

            styling = go.click(
                do_stylize, [content, style_files, size, iterations, weight, colours],
                [stylized, stylized_file, stylize_status], concurrency_limit=CONCURRENCY,
                api_name="stylize",
            )  # fmt: skip
            halt.click(None, None, None, cancels=[styling])
    return page.queue(default_concurrency_limit=CONCURRENCY, max_size=limits.queue_size)


# The Draw tab's brush: black ink first, then colours to hint with (any other by the picker).
BRUSH_COLOURS = ("#000000", "#c83232", "#e6a03c", "#3c963c", "#3c64c8", "#785032", "#a0c8f0")


def draw_tab(models: ModelCache, limits: Limits, outputs: OutputFolders, tracked) -> None:
    """The Draw tab, inside the page's `gr.Blocks`: a canvas to draw on with the mouse or a
    tablet (or to upload a drawing or photo onto), a model, and the result beside the drawing;
    a colour-filling model paints the drawing, a sketch model draws the photo."""
    import gradio as gr

    labels = list(models.sources)
    with gr.Tab("Draw"):
        with gr.Row():
            with gr.Column():
                canvas = gr.Sketchpad(
                    label="Drawing: lines in black, colour strokes as hints (a model trained "
                    "with data.sketch_hints follows them); or upload a drawing or photo",
                    type="numpy", image_mode="RGBA", sources=("upload",), canvas_size=(512, 512),
                    brush=gr.Brush(colors=list(BRUSH_COLOURS), default_color=BRUSH_COLOURS[0],
                                   color_mode="defaults"),
                    elem_id="canvas",
                )  # fmt: skip
                model = gr.Dropdown(labels, value=labels[0], label="Model", elem_id="draw_model")
                direction = gr.Radio(["AtoB", "BtoA"], value="AtoB", label="Direction")
                paint = gr.Button("Paint", variant="primary", elem_id="paint")
            with gr.Column():
                shown = gr.Gallery(label="Drawing | result", columns=2)
                downloads = gr.File(label="Download (result, drawing)", elem_id="painted")
                status = gr.Textbox(label="Messages", lines=2, elem_id="paint_status")

        def do_paint(drawing, label, way, progress=tracked):
            progress(0, desc="translating")
            result = paint_drawing(models, drawing, label, None, way, limits.max_pixels, outputs)
            pictures = [p for pair in result.pairs for p in pair]
            return pictures, result.downloads or None, result.message

        paint.click(do_paint, [canvas, model, direction], [shown, downloads, status],
                    concurrency_limit=CONCURRENCY, api_name="paint")  # fmt: skip


def enhance_tab(models: ModelCache, limits: Limits, outputs: OutputFolders, tracked) -> None:
    """The Enhance tab: old or small photos and paintings through a restorer or an enlarger
    (runs of experiments/restore.yaml, upscale_x2.yaml, upscale_x4.yaml), each result beside
    the upload (an enlarger's beside its bicubic enlargement, at the same size)."""
    import gradio as gr

    labels = enhancers(models)
    with gr.Tab("Enhance"):
        if not labels:
            gr.Markdown(
                "No restoration model is served. Train one (`make train EXP=restore_demo`, "
                "or `upscale_x2_demo`) and pass its run folder to `gan-style serve`."
            )
            return
        with gr.Row():
            with gr.Column():
                files = gr.File(label="Old or small images", file_count="multiple",
                                elem_id="enhance_uploads")  # fmt: skip
                model = gr.Dropdown(labels, value=labels[0], label="Restorer or enlarger",
                                    elem_id="enhance_model")  # fmt: skip
                tile = gr.Slider(
                    0,
                    2048,
                    step=32,
                    value=0,
                    label="Tile size of the input for large images (0 = whole)",
                )
                run = gr.Button("Enhance", variant="primary", elem_id="enhance")
            with gr.Column():
                shown = gr.Gallery(label="Upload (enlargers: bicubic) | enhanced", columns=2)
                downloads = gr.File(label="Download (PNG)", elem_id="enhanced")
                status = gr.Textbox(label="Messages", lines=2, elem_id="enhance_status")

        def do_enhance(uploads, label, size, progress=tracked):
            progress(0, desc="enhancing")
            paths = [str(u) for u in uploads or []]
            result = enhance_uploads(models, paths, label, int(size or 0), limits.max_pixels,
                                     outputs)  # fmt: skip
            pictures = [p for pair in result.pairs for p in pair]
            return pictures, result.downloads or None, result.message

        run.click(do_enhance, [files, model, tile], [shown, downloads, status],
                  concurrency_limit=CONCURRENCY, api_name="enhance")  # fmt: skip


def video_tab(models: ModelCache, limits: Limits, outputs: OutputFolders, tracked) -> None:
    """The Video tab: a short clip translated frame by frame, given back playable, with its
    sound (as `gan-style translate CLIP` makes it)."""
    import gradio as gr

    labels = list(models.sources)
    with gr.Tab("Video"):
        with gr.Row():
            with gr.Column():
                clip = gr.Video(label=f"Clip (up to {MAX_CLIP_SECONDS:g} s)", sources=["upload"],
                                elem_id="clip")  # fmt: skip
                model = gr.Dropdown(labels, value=labels[0], label="Model", elem_id="clip_model")
                direction = gr.Radio(["AtoB", "BtoA"], value="AtoB", label="Direction")
                steady = gr.Checkbox(
                    value=True, label="Steady: blend each frame with the last along the motion "
                    "(less flicker)", elem_id="steady",
                )  # fmt: skip
                run = gr.Button("Translate clip", variant="primary", elem_id="translate_clip")
            with gr.Column():
                shown = gr.Video(label="Translated", elem_id="translated_clip")
                status = gr.Textbox(label="Messages", lines=2, elem_id="clip_status")

        def do_clip(upload, label, way, steadied, progress=tracked):
            progress(0, desc="translating")
            result = translate_clip(models, upload, label, None, way, bool(steadied),
                                    limits.max_pixels, outputs)  # fmt: skip
            return (result.downloads or [None])[0], result.message

        run.click(do_clip, [clip, model, direction, steady], [shown, status],
                  concurrency_limit=CONCURRENCY, api_name="translate_clip")  # fmt: skip


def live_tab(models: ModelCache) -> None:
    """The Live tab: the camera through a model, frame by frame, as fast as this machine goes.
    The browser sends a frame every 50 ms; Gradio keeps only the newest one that arrived while
    the last was being translated, so frames are dropped rather than the picture lagging."""
    import gradio as gr

    labels = list(models.sources)
    with gr.Tab("Live"):
        with gr.Row():
            with gr.Column():
                camera = gr.Image(label="Camera", sources=["webcam"], streaming=True,
                                  type="numpy", elem_id="camera")  # fmt: skip
                model = gr.Dropdown(labels, value=labels[0], label="Model", elem_id="live_model")
                size = gr.Radio(list(LIVE_SIZES), value=LIVE_SIZES[0], elem_id="live_size",
                                label="Frame size (px, shorter side)")  # fmt: skip
                steady = gr.Checkbox(value=False, label="Steady (less flicker, some trailing)",
                                     elem_id="live_steady")  # fmt: skip
            shown = gr.Image(label="Translated", elem_id="live_output")
        steadier = gr.State(None)  # each visitor's own

        def do_frame(frame, label, px, steadied, state):
            state = (state or Steadier()) if steadied else None
            try:
                return live_frame(models, frame, label, int(px), state), state
            except GanStyleError:
                return None, state

        camera.stream(do_frame, [camera, model, size, steady, steadier], [shown, steadier],
                      stream_every=0.05,
                      concurrency_limit=CONCURRENCY,
                      time_limit=LIVE_SECONDS, show_progress="hidden")  # fmt: skip


def serve(
    paths: list[Path],
    host: str = "127.0.0.1",
    port: int = 7860,
    device: str = "cpu",
    vgg_weights: str | Path | None = None,
    block: bool = True,
    limits: Limits = Limits(),
    auth: list[tuple[str, str]] | None = None,
    outputs: OutputFolders | None = None,
):
    """Load the models' default checkpoints, build the page and serve it; with `block`, until
    Ctrl-C (or SIGTERM, made one by the command), then wait for the job in flight and remove
    every file the page wrote (the caller removes those of `outputs` it gives). `auth`: the
    (user, password) pairs that may log in."""
    own = outputs is None
    outputs = outputs or OutputFolders()
    try:
        models = ModelCache(paths, device)
        page = build_page(models, vgg_weights, device, limits, outputs)
        page.launch(
            server_name=host, server_port=port, share=False, inbrowser=False, show_error=False,
            prevent_thread_lock=not block, theme=_theme(), footer_links=[], quiet=False,
            max_file_size=f"{int(limits.max_upload_mb * 2**20)}b", auth=auth or None,
            auth_message="gan_style: log in with the user and password the server was given",
        )  # fmt: skip
    finally:
        if block and own:
            outputs.close()
    return page
