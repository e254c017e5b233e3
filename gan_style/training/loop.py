"""The training loop: `train(cfg)` reads top to bottom."""

from __future__ import annotations

import dataclasses
import math
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from gan_style.config import Config, dump, flatten, to_dict
from gan_style.data import EpochSampler, build_dataset, style_names
from gan_style.errors import ConfigError
from gan_style.evaluation.report import write_json
from gan_style.evaluation.runner import HeldOutSet
from gan_style.inference import Generators
from gan_style.models import build_model
from gan_style.networks import size_multiple
from gan_style.training import checkpoint as ckpt
from gan_style.training import distributed, speed
from gan_style.training.iteration import GanIteration
from gan_style.training.logger import RunLogger, fixed_samples
from gan_style.training.schedules import build_scheduler

METRICS = "metrics.json"  # the latest held-out scores and the best so far

# Changing these would build other networks than the checkpoint holds.
ARCHITECTURE_KEYS = ("model.", "data.channels", "data.styles")


def say(message: str) -> None:
    """Status lines go to stderr, with the progress bar, and do not break it."""
    tqdm.write(message, file=sys.stderr)


def pick_device(name: str) -> torch.device:
    if name.startswith("cuda:"):  # a distributed rank's own GPU
        return torch.device(name)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if not available[name]:
        raise ConfigError(f"train.device={name} but no such device is visible; use auto or cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class StopRequest:
    """Turns the first Ctrl-C or SIGTERM into a flag, so the loop saves before it exits."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C stops at once
        self.requested = True
        say(f"{signal.Signals(signum).name}: saving a checkpoint, then stopping")

    def __enter__(self) -> StopRequest:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@dataclass
class Progress:
    epoch: int = 0  # current epoch, 0-based
    epoch_step: int = 0  # batches of the current epoch already trained
    step: int = 0  # iterations trained in total
    best_value: float = -math.inf  # best value of eval.metric so far
    best_step: int = -1  # step of best.pt; -1 = none yet


def run_dir_for(cfg: Config, run: str) -> Path:
    return Path(cfg.log.runs_dir) / cfg.name / run


def check_resume_config(saved: dict, cfg: Config, run_dir: Path) -> list[str]:
    """Refuse architecture changes; list other changed keys for the user."""
    before, after = flatten(saved), flatten(to_dict(cfg))
    changed = [k for k in after if before.get(k) != after[k]]
    for key in changed:
        if key.startswith(ARCHITECTURE_KEYS):
            raise ConfigError(
                f"{run_dir} was trained with {key}={before.get(key)}, this command says "
                f"{after[key]}; start a new run with --run NAME"
            )
    return [f"{k}: {before.get(k)} -> {after[k]}" for k in changed if k != "log.runs_dir"]


def train(cfg: Config, run: str = "default") -> Path:
    """Train `cfg` in runs/<experiment>/<run>/, resuming from its latest.pt if there is one."""
    run_dir = run_dir_for(cfg, run)
    group, device_name = distributed.setup(cfg.train.device)
    main = group.main  # rank 0 alone writes logs, samples and checkpoints
    if cfg.model.name == "multistyle" and not cfg.data.styles:  # the config records them
        cfg = dataclasses.replace(
            cfg, data=dataclasses.replace(cfg.data, styles=style_names(cfg.data))
        )
    device = pick_device(device_name)
    seed_everything(cfg.train.seed)

    # Data.
    multiple = size_multiple(cfg.model.generator)
    styled = cfg.model.name == "multistyle"
    dataset = build_dataset(cfg.data, "train", True, cfg.train.seed, multiple, styled=styled)
    sampler = EpochSampler(
        len(dataset), cfg.train.seed, rank=group.rank, world_size=group.world_size
    )
    workers = cfg.data.num_workers
    loader = DataLoader(
        dataset,
        batch_size=cfg.train.batch_size,
        sampler=sampler,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=device.type == "cuda",
        prefetch_factor=cfg.data.prefetch if workers > 0 else None,
        generator=torch.Generator().manual_seed(cfg.train.seed),  # keeps the global RNG untouched
    )
    steps_per_epoch = math.ceil(math.ceil(len(dataset) / group.world_size) / cfg.train.batch_size)
    total_epochs = cfg.train.epochs + cfg.train.epochs_decay
    total_steps = total_epochs * steps_per_epoch
    if cfg.train.max_steps:
        total_steps = min(total_steps, cfg.train.max_steps)

    # Networks and optimizers.
    model = distributed.sync_batchnorm(build_model(cfg), device, group).to(device)
    distributed.broadcast_parameters([model], group)
    if group.enabled:  # dropout and the like differ per rank; the data shards already do
        torch.manual_seed(cfg.train.seed + 1000 * group.rank)
    generator_params = [p for g in model.generators for p in g.parameters()]
    discriminator_params = [p for d in model.discriminators for p in d.parameters()]
    betas = (cfg.train.beta1, cfg.train.beta2)
    opt_G = speed.adam(generator_params, cfg.train.lr, betas, device)
    opt_D = speed.adam(discriminator_params, cfg.train.lr, betas, device)
    precision = speed.resolve_precision(cfg.train.precision, device)
    scaler = speed.grad_scaler(precision, device)
    perceptual = [model.vgg] if getattr(model, "vgg", None) is not None else []
    speed.prepare_networks(
        [*model.generators, *model.discriminators, *perceptual],
        cfg.train.channels_last,
        cfg.train.compile,
        cfg.train.conv_backend,
        device,
    )
    layout = torch.channels_last if cfg.train.channels_last else torch.contiguous_format
    iteration = GanIteration(
        model,
        opt_G,
        opt_D,
        scaler,
        precision,
        device,
        group,
        generator_params,
        discriminator_params,
    )
    sched_G, sched_D = build_scheduler(opt_G, cfg.train), build_scheduler(opt_D, cfg.train)
    progress = Progress()

    def state() -> dict:
        return {
            "format": 1,
            "config": to_dict(cfg),
            "model": model.state_dict(),
            "optimizer_G": opt_G.state_dict(),
            "optimizer_D": opt_D.state_dict(),
            "scheduler_G": sched_G.state_dict(),
            "scheduler_D": sched_D.state_dict(),
            "pools": model.pools_state_dict(),
            "scaler": scaler.state_dict(),
            "epoch": progress.epoch,
            "epoch_step": progress.epoch_step,
            "step": progress.step,
            "best": {"value": progress.best_value, "step": progress.best_step},
            "rng": ckpt.rng_state(),
        }

    # Resume.
    latest = run_dir / ckpt.LATEST
    fresh = not latest.exists()
    if not fresh:
        saved = ckpt.load(latest, map_location=device)
        for change in check_resume_config(saved["config"], cfg, run_dir):
            if main:
                say(f"resuming with a changed setting: {change}")
        ckpt.load_state_dict_checked(
            model,
            saved["model"],
            "the model",
            saved_arch(saved["config"]),
            saved_arch(to_dict(cfg)),
        )
        opt_G.load_state_dict(saved["optimizer_G"])
        opt_D.load_state_dict(saved["optimizer_D"])
        sched_G.load_state_dict(saved["scheduler_G"])
        sched_D.load_state_dict(saved["scheduler_D"])
        model.load_pools_state_dict(saved["pools"], device)
        if saved.get("scaler"):
            scaler.load_state_dict(saved["scaler"])
        best = saved.get("best", {"value": -math.inf, "step": -1})
        progress = Progress(
            saved["epoch"], saved["epoch_step"], saved["step"], best["value"], best["step"]
        )
        ckpt.set_rng_state(saved["rng"])
        if group.enabled:  # the file holds rank 0's state; keep each rank's stream its own
            torch.manual_seed(cfg.train.seed + 1000 * group.rank + progress.step)
        if main:
            say(f"resuming {run_dir} at step {progress.step} (epoch {progress.epoch + 1})")
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(dump(cfg))

    # Log.
    held_out = held_out_set(cfg) if cfg.eval.every and main else None
    logger = RunLogger(run_dir) if main else None
    if fresh and logger:
        metric_tags = ["Loss/G/total", "Loss/D/total"]
        metric_tags += [f"Eval/{k}" for k in (held_out.metrics if held_out else ())]
        logger.hparams(cfg, dict.fromkeys(metric_tags, 0.0))
    samples = (
        {k: v.to(device) for k, v in fixed_samples(cfg, cfg.log.num_samples, multiple).items()}
        if main
        else {}
    )

    last_saved = {"step": -1}

    def save_checkpoint() -> None:
        if last_saved["step"] == progress.step:
            return
        last_saved["step"] = progress.step
        digests = distributed.weight_digests([model], group)  # every rank takes part
        if not main:
            return
        snapshot = state() | {"rank_weight_digests": digests}
        ckpt.save_atomic(snapshot, latest)
        ckpt.save_atomic(snapshot, run_dir / f"step_{progress.step:07d}.pt")
        ckpt.prune(run_dir, cfg.train.keep_checkpoints)
        generators = {name: g.state_dict() for name, g in model.named_generators.items()}
        ckpt.save_atomic(
            {"format": 1, "config": to_dict(cfg), "step": progress.step, **generators},
            run_dir / ckpt.GENERATOR,
        )

    def write_samples() -> None:
        model.eval()
        with torch.inference_mode():
            images = model.sample_columns(samples["A"], samples["B"])
        model.train()
        logger.samples(progress.step, images)

    def evaluate() -> None:
        """Score the held-out subset, log it, keep best.pt by eval.metric."""
        model.eval()
        named = model.named_generators
        gens = Generators(
            named["G_AB"], named.get("G_BA"), cfg, progress.step, run_dir, multiple,
            styles=list(cfg.data.styles) if "style_embedding" in named else [],
            style_embedding=named.get("style_embedding"), style_encoder=named.get("style_encoder"),
        )  # fmt: skip
        scores = held_out.score(gens)
        model.train()
        logger.scalars(progress.step, {f"Eval/{k}": v for k, v in scores.items()})
        value = scores[cfg.eval.metric]
        if value > progress.best_value:
            progress.best_value, progress.best_step = value, progress.step
            ckpt.save_atomic(state(), run_dir / ckpt.BEST)
        best = {"metric": cfg.eval.metric, "value": progress.best_value, "step": progress.best_step}
        write_json({"step": progress.step, "metrics": scores, "best": best}, run_dir / METRICS)

    # Loop.
    if progress.step >= total_steps:
        say(
            f"{run_dir} already finished at step {progress.step}; "
            f"raise train.max_steps or train.epochs to train further"
        )
        if logger:
            logger.close()
        distributed.teardown(group)
        return run_dir
    bar = tqdm(
        total=total_steps,
        initial=progress.step,
        desc=f"{cfg.name}/{run}",
        unit="it",
        disable=not main,
    )
    last_log_time, last_log_step = time.perf_counter(), progress.step
    with StopRequest() as stop:
        while progress.epoch < total_epochs and progress.step < total_steps and not stop.requested:
            sampler.set_epoch(progress.epoch, skip=progress.epoch_step * cfg.train.batch_size)
            for batch in loader:
                batch = {
                    k: v.to(device, non_blocking=True)
                    for k, v in batch.items()
                    if k in ("A", "B", "style")
                }
                batch |= {k: batch[k].contiguous(memory_format=layout) for k in ("A", "B")}
                g_losses, d_losses = iteration(batch)

                progress.step += 1
                progress.epoch_step += 1
                bar.update(1)

                # Log. Reading loss values syncs with the device, so only at log steps.
                if main and (progress.step % cfg.log.every == 0 or progress.step == total_steps):
                    now = time.perf_counter()
                    values = {f"Loss/{k}": v.item() for k, v in (g_losses | d_losses).items()}
                    values["LR/G"] = opt_G.param_groups[0]["lr"]
                    values["LR/D"] = opt_D.param_groups[0]["lr"]
                    values["Time/sec_per_iter"] = (now - last_log_time) / max(
                        1, progress.step - last_log_step
                    )
                    last_log_time, last_log_step = now, progress.step
                    logger.scalars(progress.step, values)
                    bar.set_postfix(
                        G=f"{values['Loss/G/total']:.3f}", D=f"{values['Loss/D/total']:.3f}"
                    )
                if main and (
                    progress.step % cfg.log.sample_every == 0 or progress.step == total_steps
                ):
                    write_samples()
                if held_out and (
                    progress.step % cfg.eval.every == 0 or progress.step == total_steps
                ):
                    evaluate()

                # Checkpoint.
                if progress.step % cfg.train.save_every == 0:
                    save_checkpoint()
                stop.requested = distributed.any_rank(stop.requested, group)
                if stop.requested or progress.step >= total_steps:
                    break
            else:
                progress.epoch += 1
                progress.epoch_step = 0
                sched_G.step()
                sched_D.step()
                save_checkpoint()
        save_checkpoint()
    bar.close()
    if logger:
        logger.close()
    distributed.teardown(group)
    if stop.requested and main:
        say(f"stopped at step {progress.step}; run the same command again to resume")
    return run_dir


def saved_arch(config: dict) -> str:
    """A short description of the networks a config builds, for mismatch messages."""
    m = config.get("model", {})
    return (
        f"{m.get('name')} {m.get('generator')} ngf={m.get('ngf')} "
        f"{m.get('discriminator')} ndf={m.get('ndf')} norm={m.get('norm')}"
    )


def held_out_set(cfg: Config) -> HeldOutSet:
    """The fixed held-out images scored during training; checks eval.metric is computable."""
    held_out = HeldOutSet.from_config(cfg, cfg.eval.num_images)
    if cfg.eval.metric not in held_out.metrics:
        raise ConfigError(
            f"eval.metric={cfg.eval.metric} cannot be computed for this model and data "
            f"(*_AB needs paired data or testB_paired/, *_BA testA_paired/, cycle_* CycleGAN); "
            f"use one of {', '.join(held_out.metrics)}"
        )
    return held_out
