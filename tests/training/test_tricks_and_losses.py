"""Label tricks have the documented statistics; every loss, trick and optimiser trains for real."""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_dir

from gan_lab.config.choices import LOSS_NAMES, OPTIMIZER_NAMES
from gan_lab.config.packaged import config_dir, group_options
from gan_lab.config.validate import validate_config
from gan_lab.data import build_image_source
from gan_lab.errors import UserError
from gan_lab.models import build_models
from gan_lab.training.label_tricks import LabelTricks, instance_noise_std
from gan_lab.training.losses import build_loss
from gan_lab.training.trainer import Trainer

TINY = ["dataset.num_images=64", "dataset.image_size=16", "model.latent_dim=8",
        "trainer.batch_size=16", "trainer.device=cpu", "trainer.precision=fp32"]  # fmt: skip


def compose_cfg(*overrides: str):
    """The config with tiny data and nets; a small DCGAN unless a model= override picks another."""
    small_dcgan = [] if any(o.startswith("model=") for o in overrides) else ["model.filters=4"]
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[*TINY, *small_dcgan, *overrides])
    validate_config(cfg)
    return cfg


def tricks(preset: str, *overrides: str) -> LabelTricks:
    return LabelTricks.from_config(compose_cfg(f"tricks={preset}", *overrides).tricks)


def targets(labels: LabelTricks, n: int = 20000) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return labels.d_targets(torch.zeros(n), torch.zeros(n))


def test_none_is_real_one_fake_zero():
    real, fake = targets(tricks("none"))
    assert real.unique().tolist() == [1.0] and fake.unique().tolist() == [0.0]


def test_soft_label_ranges_and_mirror_under_flip():
    real, fake = targets(tricks("soft"))
    assert 0.9 <= real.min() and real.max() <= 1.0 and real.std() > 0.02
    assert 0.0 <= fake.min() and fake.max() <= 0.1
    real, fake = targets(tricks("soft", "tricks.flip=true"))
    assert 0.0 <= real.min() and real.max() <= 0.1
    assert 0.9 <= fake.min() and fake.max() <= 1.0


def test_noisy_labels_flip_about_p():
    real, fake = targets(tricks("noisy"))
    assert abs((real == 0).float().mean().item() - 0.05) < 0.01
    assert abs((fake == 1).float().mean().item() - 0.05) < 0.01


def test_flip_convention_and_g_aims_at_its_real_value():
    labels = tricks("flip")
    real, fake = targets(labels, 10)
    assert real.unique().tolist() == [0.0] and fake.unique().tolist() == [1.0]
    assert labels.real_value == 0.0
    # the non-saturating G loss pulls D(G(z)) towards 0 under flip: its gradient on a logit is positive
    logit = torch.zeros(4, requires_grad=True)
    build_loss(compose_cfg().loss).g_loss(logit, labels.real_value, labels.fake_value).backward()
    assert (logit.grad > 0).all()


def test_tips_is_flip_soft_and_noisy():
    real, fake = targets(tricks("tips"))
    assert abs((real > 0.5).float().mean().item() - 0.05) < 0.01  # 5% of real marked generated
    kept_real = real[real <= 0.5]
    assert 0.0 <= kept_real.min() and kept_real.max() <= 0.1
    kept_fake = fake[fake >= 0.5]
    assert 0.9 <= kept_fake.min() and kept_fake.max() <= 1.0


def test_one_sided_smoothing_and_additive_noise():
    real, fake = targets(tricks("smooth"))
    assert real.unique().tolist() == [pytest.approx(0.9)] and fake.unique().tolist() == [0.0]
    real, fake = targets(tricks("flip", "tricks.additive=0.05"))
    assert 0.0 <= real.min() and real.max() < 0.05 and 1.0 <= fake.min() and fake.max() < 1.05


def test_instance_noise_anneals_to_zero_at_its_end_step():
    cfg = compose_cfg("tricks=instance_noise", "trainer.steps=100")
    assert cfg.tricks.instance_noise_steps == 100
    stds = [instance_noise_std(cfg.tricks.instance_noise, 100, step) for step in (0, 50, 100, 150)]
    assert stds[0] == cfg.tricks.instance_noise > 0
    assert stds[1] == pytest.approx(stds[0] / 2) and stds[2] == 0.0 and stds[3] == 0.0


def test_label_tricks_need_a_loss_with_labels():
    with pytest.raises(UserError, match="loss=hinge has none"):
        compose_cfg("tricks=flip", "loss=hinge")
    compose_cfg("tricks=instance_noise", "loss=wgan_gp")  # instance noise needs no labels


def test_ada_r_t_reads_each_loss_decision_rule():
    """r_t is +1 when D puts every real image on its 'real' side, in each loss's own terms."""
    real, fake = torch.tensor([2.0, 3.0, -1.0, 4.0]), torch.tensor([1.0, 0.0, -2.0, 5.0])
    bce, lsgan, hinge = (build_loss(compose_cfg(f"loss={name}").loss) for name in ("bce", "lsgan", "hinge"))
    assert bce.r_t(real, fake, 1.0, 0.0).item() == 0.5  # logit 0 decides: 3 of 4 real images positive
    assert bce.r_t(real, fake, 0.0, 1.0).item() == -0.5  # flipped labels: a negative logit says "real"
    assert lsgan.r_t(torch.tensor([0.4, 0.6, 0.9, 0.1]), fake, 1.0, 0.0).item() == 0.0  # halfway, 0.5, decides
    assert hinge.r_t(real, fake, 0.0, 1.0).item() == 0.5  # no labels: real is positive under any convention
    for name in ("rpgan", "wgan_gp"):  # only differences count: a common drift of D's outputs changes nothing
        relative = build_loss(compose_cfg(f"loss={name}").loss)
        assert relative.r_t(real, fake).item() == relative.r_t(real + 50, fake + 50).item() == 0.5


def run_steps(tmp_path, *overrides: str, steps: int = 2) -> Trainer:
    cfg = compose_cfg(*overrides)
    torch.manual_seed(0)
    G, D = build_models(cfg)
    trainer = Trainer(cfg, G, D, build_image_source(cfg, torch.device("cpu")), tmp_path, torch.device("cpu"))
    before = [p.detach().clone() for p in list(G.parameters()) + list(D.parameters())]
    for step in range(1, steps + 1):
        trainer.train_step(step, record_norms=step == steps)
    after = list(G.parameters()) + list(D.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    assert sum(not torch.equal(a, b) for a, b in zip(after, before)) > len(after) // 2
    means = trainer.interval_means().tolist()
    assert all(torch.isfinite(torch.tensor(means)))
    return trainer


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_every_loss_trains(tmp_path, loss):
    overrides = [f"loss={loss}"] + (["model.norm_D=layer"] if loss == "wgan_gp" else [])
    trainer = run_steps(tmp_path, *overrides)
    assert trainer.settings.d_steps == (5 if loss == "wgan_gp" else 1)


def test_a_step_makes_optim_d_steps_d_updates_then_one_g_update(tmp_path):
    trainer = run_steps(tmp_path, "optim.d_steps=3", steps=1)
    updates = {"D": 0, "G": 0}
    trainer.opt_D.register_step_post_hook(lambda *_: updates.__setitem__("D", updates["D"] + 1))
    trainer.opt_G.register_step_post_hook(lambda *_: updates.__setitem__("G", updates["G"] + 1))
    trainer.train_step(2, record_norms=False)
    assert updates == {"D": 3, "G": 1}


@pytest.mark.parametrize("preset", group_options("tricks"))
def test_every_trick_trains(tmp_path, preset):
    run_steps(tmp_path, f"tricks={preset}")


@pytest.mark.parametrize("optim", OPTIMIZER_NAMES)
def test_every_optimiser_trains_with_clipping(tmp_path, optim):
    run_steps(tmp_path, f"optim={optim}", "optim.clip_norm=1.0", "optim.d_steps=2")


@pytest.mark.parametrize("model", ["mlp", "resnet"])
def test_other_models_train(tmp_path, model):
    extra = ["model.hidden_G=[16]", "model.hidden_D=[16]"] if model == "mlp" else ["model.filters=4"]
    run_steps(tmp_path, f"model={model}", *extra)


def test_dlwp_trains_at_32px(tmp_path):
    run_steps(tmp_path, "model=dlwp", "model.filters_G=8", "model.filters_D=8", "dataset.image_size=32")


def test_ema_copy_follows_g_and_draws_the_samples(tmp_path):
    trainer = run_steps(tmp_path, "model.ema_decay=0.9", steps=3)
    ema, G = trainer.ema.model, trainer.G
    assert not all(torch.equal(a, b) for a, b in zip(ema.parameters(), G.parameters()))
    z = trainer.fixed_z[:4]
    ema.eval()
    with torch.no_grad():
        assert torch.allclose(trainer.generate(z), ema(z))


def test_bce_with_labels_above_one_stays_bounded_like_keras():
    """The Keras book's labels + 0.05 * U[0, 1) reach 1.05: uncapped, D's BCE falls without bound as its logit
    grows (frog_dlwp's loss/D reached -1e8); capped at Keras' probability clip it bottoms out near -0.8."""
    cfg = compose_cfg("tricks=flip", "tricks.additive=0.05")
    labels = LabelTricks.from_config(cfg.tricks)
    assert labels.target_range() == (0.0, 1.05)
    assert build_loss(cfg.loss, (0.0, 1.0)).capped is False and build_loss(compose_cfg().loss).capped is False
    loss = build_loss(cfg.loss, labels.target_range())
    target = torch.full((4,), 1.05)
    runaway = torch.full((4,), 1e6, requires_grad=True)
    value = loss._bce(runaway, target)
    value.backward()
    assert -0.9 < value.item() < -0.7 and (runaway.grad == 0).all()
    # below the cap the gradient still pushes the logit up, and a logit on the wrong side keeps its full pull
    inside = torch.tensor([3.0, -50.0], requires_grad=True)
    loss._bce(inside, torch.full((2,), 1.05)).backward()
    assert (inside.grad < 0).all() and inside.grad[1].item() == pytest.approx(-1.05 / 2)
    # targets inside [0, 1] give exactly torch's BCE, capped or not
    x, y = torch.randn(8) * 30, torch.rand(8)
    assert torch.equal(loss._bce(x, y), torch.nn.functional.binary_cross_entropy_with_logits(x, y))
