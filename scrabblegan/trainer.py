"""The networks, their optimizers, and the three update phases of ScrabbleGAN training.

One training iteration (``train.py`` calls these in order):

1. :meth:`GANTrainer.d_step`  D on real (+ unlabelled) and fake images in one pass, hinge loss.
2. :meth:`GANTrainer.r_step`  the weak recognizer R on the real labelled images, CTC loss.
3. :meth:`GANTrainer.g_step`  every ``d_per_g``-th iteration: G against D (hinge) and R (CTC),
   the CTC gradient balanced to the adversarial one, one backward pass through G; then EMA.

Every loss is checked before its update; a NaN or infinity raises :class:`NonFiniteLossError`
before any weight changes in that phase.
"""
from __future__ import annotations

import contextlib
from collections.abc import Sequence

import torch
from torch.nn.parallel import DistributedDataParallel as DDP

from recognizer.codec import Codec
from recognizer.ctc import ctc_loss
from recognizer.trunk import ConvRecognizer
from scrabblegan import losses
from scrabblegan.config import CHAR_WIDTH, RunConfig
from scrabblegan.data import Batch, mask_width, sample_texts
from scrabblegan.discriminator import Discriminator
from recognizer.distributed import DistInfo, all_ranks
from scrabblegan.ema import ema_decay, ema_update, make_ema
from scrabblegan.generator import Generator


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; training stops without updating or saving."""


def make_adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam, fused (one pass per tensor; 8x faster on G's large filter bank on CPU) where torch has it."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):  # torch < 2.4 on CPU
        return torch.optim.Adam(params, lr=lr, betas=betas)


def _pad_width(x: torch.Tensor, width: int) -> torch.Tensor:
    """Pad ``[N, C, H, W]`` on the right with white (+1) to ``width`` columns."""
    if x.shape[-1] == width:
        return x
    return torch.nn.functional.pad(x, (0, width - x.shape[-1]), value=1.0)


class GANTrainer:
    """G, G_ema, D, R with their Adam optimizers, on one device, optionally wrapped in DDP.

    Args:
        cfg: the run's resolved configuration.
        codec: label codec (its alphabet fixes G's filter bank and R's classes).
        lexicon: words to generate (already filtered to the alphabet and maximum length).
        dist: rank, world size and device of this process.
    """

    def __init__(self, cfg: RunConfig, codec: Codec, lexicon: Sequence[str], dist: DistInfo):
        self.cfg, self.codec, self.lexicon, self.dist = cfg, codec, list(lexicon), dist
        t, dev = cfg.train, dist.device
        self.fmt = torch.channels_last if t.channels_last else torch.contiguous_format
        self.G = Generator(codec.num_classes, cfg.model).to(dev, memory_format=self.fmt)
        self.D = Discriminator(cfg.model).to(dev, memory_format=self.fmt)
        self.R = ConvRecognizer(codec.num_classes, cfg.model.r_ch, cfg.model.r_batchnorm).to(dev, memory_format=self.fmt)
        self.G_ema = make_ema(self.G)
        betas = (float(t.betas[0]), float(t.betas[1]))
        self.opt_G = make_adam(self.G.parameters(), t.lr_g, betas)
        self.opt_D = make_adam(self.D.parameters(), t.lr_d, betas)
        self.opt_R = make_adam(self.R.parameters(), t.lr_r, betas)
        # DDP wrappers for the updates that sync gradients; the G step calls D and R unwrapped,
        # since it only asks for gradients with respect to the images.
        wrap = (lambda m: DDP(m, device_ids=[dev] if dev.type == "cuda" else None)) if dist.enabled else (lambda m: m)
        self.G_train, self.D_train, self.R_train = wrap(self.G), wrap(self.D), wrap(self.R)
        self.step = 0  # completed iterations
        self.g_updates = 0
        if t.amp not in ("none", "bf16"):
            raise ValueError(f"amp must be 'none' or 'bf16', got {t.amp!r}")
        self.amp = t.amp == "bf16" and dev.type == "cuda"

    # -- helpers -------------------------------------------------------------------------------
    def autocast(self):
        if self.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _check(self, phase: str, values: dict[str, torch.Tensor]) -> None:
        finite = all(bool(torch.isfinite(v).all()) for v in values.values())
        if not all_ranks(finite, self.dist):
            shown = ", ".join(f"{k}={float(v.detach()):.4g}" for k, v in values.items())
            raise NonFiniteLossError(f"non-finite loss in the {phase} step at step {self.step + 1} "
                                     f"(on this rank: {shown})")

    def fake_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
        """Sample ``n`` lexicon words and style vectors: ``(z [n, z_dim], labels [n, L], texts)``."""
        texts = sample_texts(self.lexicon, n)
        labels, _ = self.codec.encode_padded(texts)
        z = torch.randn(n, self.cfg.model.z_dim)
        return z.to(self.dist.device), labels.to(self.dist.device), texts

    def generate(self, z: torch.Tensor, labels: torch.Tensor, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """G's images with padding painted white: ``([N, 1, 32, W], widths [N])``."""
        widths = torch.tensor([CHAR_WIDTH * len(t) for t in texts], device=self.dist.device)
        with self.autocast():
            fake = self.G_train(z, labels)  # [N, 1, 32, 16 L]
        return mask_width(fake.float(), widths), widths

    def g_due(self) -> bool:
        """Whether this iteration also updates G (every ``d_per_g``-th)."""
        return (self.step + 1) % self.cfg.train.d_per_g == 0

    # -- phases --------------------------------------------------------------------------------
    def d_step(self, real: Batch, unlabeled: Batch | None = None) -> dict[str, float]:
        """Hinge update of D on ``real`` (+ ``unlabeled``) vs. fresh fakes, all in one forward pass."""
        with torch.no_grad():
            z, labels, texts = self.fake_batch(len(real.texts))
            fake, fake_w = self.generate(z, labels, texts)
        reals = [real] + ([unlabeled] if unlabeled is not None else [])
        width = max([fake.shape[-1]] + [b.images.shape[-1] for b in reals])
        x = torch.cat([_pad_width(b.images, width) for b in reals] + [_pad_width(fake, width)])  # [Nr + Nf, 1, 32, W]
        widths = torch.cat([b.widths for b in reals] + [fake_w])
        with self.autocast():
            scores = self.D_train(x.contiguous(memory_format=self.fmt), widths)
        n_real = x.shape[0] - fake.shape[0]
        loss_real, loss_fake = losses.d_hinge(scores[:n_real], scores[n_real:])
        self._check("D", {"real": loss_real, "fake": loss_fake})
        self.opt_D.zero_grad(set_to_none=True)
        (loss_real + loss_fake).backward()
        self.opt_D.step()
        return {"Loss/D/real": loss_real.item(), "Loss/D/fake": loss_fake.item(),
                "D/score_real": scores[:n_real].mean().item(), "D/score_fake": scores[n_real:].mean().item()}

    def r_step(self, real: Batch) -> dict[str, float]:
        """CTC update of the weak recognizer on the real labelled images."""
        targets, lengths = self.codec.encode_batch(real.texts)
        with self.autocast():
            log_probs = self.R_train(real.images)  # [T, N, K]
        loss, dropped = ctc_loss(log_probs, targets, lengths, ConvRecognizer.output_length(real.widths.cpu()))
        self._check("R", {"ctc": loss})
        self.opt_R.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_R.step()
        return {"Loss/R/ctc_real": loss.item(), "R/dropped": float(dropped)}

    def g_step(self) -> dict[str, float]:
        """Update G on adversarial + balanced CTC gradients with one backward pass through G; update EMA."""
        z, labels, texts = self.fake_batch(self.cfg.train.batch_size)
        fake, widths = self.generate(z, labels, texts)  # [N, 1, 32, W], graph through G kept
        x = fake.detach().requires_grad_(True)
        self.R.eval()  # judge fakes with R's running statistics of real images; no updates
        try:
            with self.autocast():
                adv = losses.g_hinge(self.D(x.contiguous(memory_format=self.fmt), widths))
                log_probs = self.R(x.contiguous(memory_format=self.fmt))  # [T, N, K]
        finally:
            self.R.train()
        targets, lengths = self.codec.encode_batch(texts)
        ctc, dropped = ctc_loss(log_probs, targets, lengths, ConvRecognizer.output_length(widths.cpu()))
        self._check("G", {"adv": adv, "ctc": ctc})
        # Gradients with respect to the images only: backward through D and R, not their weights.
        (grad_adv,) = torch.autograd.grad(adv, x)
        (grad_ctc,) = torch.autograd.grad(ctc, x) if ctc.requires_grad else (torch.zeros_like(x),)
        grad, scale = losses.balanced_gradient(grad_adv, grad_ctc, self.cfg.train.grad_alpha)
        self.opt_G.zero_grad(set_to_none=True)
        fake.backward(grad)  # the one backward pass through G
        self.opt_G.step()
        self.g_updates += 1
        ema_update(self.G_ema, self.G, ema_decay(self.g_updates, self.cfg.train.ema_decay))
        return {"Loss/G/adv": adv.item(), "Loss/G/ctc": ctc.item(), "G/balance_scale": scale.item(),
                "G/grad_std_adv": grad_adv.std().item(), "G/grad_std_ctc": grad_ctc.std().item()}

    # -- checkpoint state ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"step": self.step, "g_updates": self.g_updates,
                "G": self.G.state_dict(), "G_ema": self.G_ema.state_dict(), "D": self.D.state_dict(),
                "R": self.R.state_dict(), "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
                "opt_R": self.opt_R.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        for name in ("G", "G_ema", "D", "R", "opt_G", "opt_D", "opt_R"):
            getattr(self, name).load_state_dict(state[name])
        self.step, self.g_updates = int(state["step"]), int(state["g_updates"])
