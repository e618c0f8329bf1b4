"""Risks that show on GPUs and under torchrun, checked on the CPU: precision, determinism, device choice."""

from __future__ import annotations

import io

import pytest
import torch
import torch.nn as nn
from conftest import TINY

from gan_lab.config.preflight import compose_config
from gan_lab.config.validate import validate_config
from gan_lab.errors import UserError
from gan_lab.training import distributed
from gan_lab.training.device import resolve_precision
from gan_lab.training.losses import gradient_penalty
from gan_lab.training.nonfinite import NonFiniteGuard
from gan_lab.training.optimizers import _owner_index, layer_grad_norms

CUDA = torch.device("cuda")


def small_critic() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(4 * 8 * 8, 1))


def test_gradient_penalty_is_fp32_inside_bf16_autocast():
    D = small_critic()
    seen = []
    D[0].register_forward_hook(lambda module, args, out: seen.append((args[0].dtype, out.dtype)))
    real, fake = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 8, 8).bfloat16()
    torch.manual_seed(1)
    plain = gradient_penalty(D, real, fake.float())
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty = gradient_penalty(D, real, fake)
        assert D[0](real).dtype == torch.bfloat16  # the context does cast outside the penalty
    assert seen[:2] == [(torch.float32, torch.float32)] * 2
    assert penalty.dtype == torch.float32 and torch.equal(penalty, plain)
    penalty.backward()  # the double backward, through every weight (the last bias has no say in grad_x)
    grads = [p.grad for p in D.parameters() if p.grad is not None]
    assert len(grads) == 3 and all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)


def test_layer_grad_norms_are_unchanged_and_copy_their_index_once():
    D = small_critic()
    D(torch.rand(2, 3, 8, 8)).sum().backward()
    D[3].bias.grad = None  # a parameter without a gradient keeps its layer's norm to the others
    layers = [("conv", list(D[0].parameters())), ("act", []), ("dense", list(D[3].parameters()))]
    expected = torch.stack([
        torch.cat([p.grad.flatten() for p in params if p.grad is not None] or [torch.zeros(0)]).norm()
        for _, params in layers
    ])  # fmt: skip
    _owner_index.cache_clear()
    assert torch.allclose(layer_grad_norms(layers), expected)
    assert torch.allclose(layer_grad_norms(layers), expected)
    info = _owner_index.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert layer_grad_norms([("empty", [])]).tolist() == [0.0]


@pytest.mark.parametrize("device", ["auto", "cuda", "cuda:1"])
def test_deterministic_bilinear_upsampling_is_refused_where_cuda_may_run(device):
    overrides = [f"trainer.device={device}", "trainer.deterministic=true", "model.upsample=bilinear"]
    cfg = compose_config([*TINY[:-1], *overrides])
    refused = r"^trainer.deterministic=true with model.upsample=bilinear fails on CUDA"
    with pytest.raises(UserError, match=refused) as error:
        validate_config(cfg)
    assert "\n" not in str(error.value) and "model.upsample=nearest" in str(error.value)


def test_deterministic_bilinear_on_cpu_and_nearest_anywhere_are_fine():
    validate_config(compose_config([*TINY, "trainer.deterministic=true", "model.upsample=bilinear"]))
    auto = [*TINY[:-1], "trainer.device=auto"]
    validate_config(compose_config([*auto, "trainer.deterministic=true", "model.upsample=nearest"]))


def test_more_processes_than_gpus_is_one_line(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "3")
    world = distributed.World(rank=2, size=3, local_rank=2)
    message = r"^torchrun --nproc_per_node=3 but this machine has 2 GPU\(s\); use --nproc_per_node=2 or fewer"
    with pytest.raises(UserError, match=message):
        distributed.start(world, "cuda")


def test_process_group_waits_long_enough_for_an_evaluation_on_rank_0(monkeypatch):
    import torch.distributed as dist

    calls = []
    monkeypatch.setattr(dist, "init_process_group", lambda backend, **kw: calls.append((backend, kw)))
    distributed.start(distributed.World(rank=0, size=2, local_rank=0), "cpu")
    assert calls == [("gloo", {"timeout": distributed.TIMEOUT})] and distributed.TIMEOUT.total_seconds() >= 3600


@pytest.mark.parametrize("emulated", [True, False])
def test_auto_precision_takes_only_native_cuda_bf16(monkeypatch, emulated):
    """A T4 or V100 emulates bf16 (slow): auto stays fp32 there and bf16 is refused."""
    monkeypatch.delenv("GAN_LAB_FP32", raising=False)
    if emulated:  # a torch whose is_bf16_supported() knows about emulation
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    else:  # an older signature: the compute capability decides
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    assert resolve_precision("auto", CUDA) is None
    with pytest.raises(UserError, match="trainer.precision=bf16 but this cuda has no native bf16"):
        resolve_precision("bf16", CUDA)


def test_auto_precision_takes_native_cuda_bf16(monkeypatch):
    monkeypatch.delenv("GAN_LAB_FP32", raising=False)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 0))
    assert resolve_precision("auto", CUDA) == torch.bfloat16


def test_skip_step_in_one_process_is_unchanged():
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    guard = NonFiniteGuard("skip_step", {"D": model}, torch.device("cpu"))
    model(torch.ones(1, 2)).sum().backward()
    assert guard.update_allowed(torch.tensor(1.0), model, optimizer)
    assert not guard.update_allowed(torch.tensor(float("nan")), model, optimizer)
    assert all(p.grad is None for p in model.parameters())  # the skipped step's gradients are dropped
    stop = NonFiniteGuard("stop", {"D": model}, torch.device("cpu"))
    stop.check_weights(5, None)  # nothing non-finite: saves
    stop.first.fill_(3)
    with pytest.raises(UserError, match="non-finite loss at step 3"):
        stop.check_weights(5, None)


def test_compile_failure_in_the_g_step_leaves_d_trainable(tmp_path, monkeypatch, caplog):
    """The compiled D_for_G fails inside the G step (D frozen there); the eager retry still trains D."""
    import torch._dynamo.exc

    from gan_lab.data import build_image_source
    from gan_lab.models import build_models
    from gan_lab.training.trainer import Trainer

    class FailsInGStep(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, *args):
            assert not any(p.requires_grad for p in self.module.parameters())  # called from the G step
            raise torch._dynamo.exc.TorchDynamoException("backend inductor failed: no C++ compiler")

    compiled = []  # G_train and D_train "compile" (run as they are); D_for_G, compiled third, fails

    def fake_compile(module):
        compiled.append(module)
        return FailsInGStep(module) if len(compiled) == 3 else module

    monkeypatch.setattr(torch, "compile", fake_compile)
    cfg = compose_config([*TINY, "trainer.compile=true", "trainer.steps=1"])
    G, D = build_models(cfg)
    trainer = Trainer(cfg, G, D, build_image_source(cfg, torch.device("cpu")), tmp_path, torch.device("cpu"))
    assert isinstance(trainer.D_for_G, FailsInGStep)
    before = [p.detach().clone() for p in D.parameters()]
    with caplog.at_level("WARNING"):
        summary = trainer.fit()
    assert summary["status"] == "ok" and trainer.D_for_G is D
    assert any("torch.compile failed" in r.message for r in caplog.records)
    assert all(p.requires_grad and p.grad is not None for p in D.parameters())
    assert any(not torch.equal(p, b) for p, b in zip(D.parameters(), before))  # the retry's D step trained D


def test_an_assertion_from_inductors_generated_code_counts_as_a_compile_failure(tmp_path):
    """On CUDA (torch 2.11) inductor's generated code raised a plain AssertionError at the first backward; the
    traceback's file, not the error's type, tells it from a model's own assertion."""
    from gan_lab.training.compiled import is_compile_error

    generated = tmp_path / "torchinductor_root" / "qr" / "cqrv.py"
    generated.parent.mkdir(parents=True)
    generated.write_text("def call(args):\n    assert False, 'expected size 512==512, stride 16==1 at dim=1'\n")
    namespace = {}
    exec(compile(generated.read_text(), str(generated), "exec"), namespace)
    with pytest.raises(AssertionError) as from_inductor:
        namespace["call"](None)
    assert is_compile_error(from_inductor.value)
    with pytest.raises(AssertionError) as from_model:
        assert False, "the model's own check"
    assert not is_compile_error(from_model.value)


def test_compile_on_cuda_trains_in_the_contiguous_layout():
    from gan_lab.training.compiled import memory_format

    assert memory_format(True, True, CUDA) == torch.contiguous_format
    assert memory_format(True, False, CUDA) == torch.channels_last
    assert memory_format(True, True, torch.device("cpu")) == torch.channels_last
    assert memory_format(False, False, torch.device("cpu")) == torch.contiguous_format


@pytest.mark.parametrize("loss", ["bce", "rpgan"])
def test_compiled_d_sees_one_input_dtype_under_bf16(tmp_path, monkeypatch, loss):
    """torch.compile traces a module once per input dtype: the compiled D gets the real batch in the generated
    batch's bf16, so it is not compiled twice; eager D still gets the data as it is (fp32)."""
    from gan_lab.data import build_image_source
    from gan_lab.models import build_models
    from gan_lab.training.trainer import Trainer

    class Recorder(nn.Module):
        def __init__(self, module, seen):
            super().__init__()
            self.module, self.seen = module, seen

        def forward(self, x):
            self.seen.add(x.dtype)
            return self.module(x)

    monkeypatch.setattr("gan_lab.training.trainer.resolve_precision", lambda name, device: torch.bfloat16)

    def run(compile_, steps=2):  # bf16 autocast on any CPU (emulated where it is not native), GAN_LAB_FP32 or not
        seen = set()
        cfg = compose_config([*TINY, f"trainer.compile={str(compile_).lower()}", f"trainer.steps={steps}", f"loss={loss}"])
        G, D = build_models(cfg)
        monkeypatch.setattr(torch, "compile", lambda m: Recorder(m, seen) if m is D else m)  # G's input is z
        trainer = Trainer(cfg, G, D, build_image_source(cfg, torch.device("cpu")), tmp_path / str(compile_),
                          torch.device("cpu"))  # fmt: skip
        if not compile_:
            trainer.D_train = trainer.D_for_G = Recorder(D, seen)
        assert trainer.fit()["status"] == "ok"
        return seen

    assert run(True) == {torch.bfloat16}
    assert run(False) == {torch.float32, torch.bfloat16}


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop"])
def test_optimisers_update_in_one_kernel_or_one_multi_tensor_pass(name):
    """Fused Adam and SGD on the CPU (torch has no fused RMSprop): the same update as the per-parameter loop."""
    from gan_lab.training.optimizers import build_optimizers

    cfg = compose_config([*TINY, f"optim={name}"])
    net, reference = small_critic(), small_critic()
    _, opt_D = build_optimizers(cfg.optim, small_critic(), net, torch.device("cpu"))
    assert opt_D.defaults.get("fused" if name != "rmsprop" else "foreach") is True
    settings = {k: v for k, v in opt_D.defaults.items() if k != "fused"}
    plain = type(opt_D)(reference.parameters(), **{**settings, "foreach": False})
    for _ in range(3):
        for model in (net, reference):
            model.zero_grad()
            model(torch.ones(2, 3, 8, 8)).sum().backward()
        opt_D.step()
        plain.step()
    for fused, looped in zip(net.parameters(), reference.parameters()):
        torch.testing.assert_close(fused, looped, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("overrides", [["optim=adam"], ["optim=sgd", "optim.momentum=0.5"]])
def test_optimiser_state_saved_in_the_other_memory_layout_updates_as_if_never_saved(overrides):
    """A checkpoint from a contiguous-layout run (torch.compile on CUDA) resumed in channels_last, or the
    reverse: fused Adam and SGD walk parameter and moments in memory order, so the moments must take
    their parameter's layout on loading, or every later update is scrambled. The per-parameter loop,
    which reads any layout, is the reference (it loads the same fused checkpoint and stays a loop)."""
    from gan_lab.training.optimizers import build_optimizers, load_optimizer_state

    cfg = compose_config([*TINY, *overrides])
    batch = torch.randn(2, 3, 8, 8)

    def update(net, optimizer):
        net.zero_grad(set_to_none=True)
        net(batch).square().sum().backward()
        optimizer.step()

    for saved_layout, resumed_layout in [(torch.contiguous_format, torch.channels_last),
                                         (torch.channels_last, torch.contiguous_format)]:  # fmt: skip
        saved = small_critic().to(memory_format=saved_layout)
        _, saved_opt = build_optimizers(cfg.optim, small_critic(), saved, torch.device("cpu"))
        update(saved, saved_opt)  # moments exist now, in the saved layout
        checkpoint = io.BytesIO()
        torch.save({"net": saved.state_dict(), "opt": saved_opt.state_dict()}, checkpoint)
        resumed, looped = (small_critic().to(memory_format=resumed_layout) for _ in range(2))
        _, resumed_opt = build_optimizers(cfg.optim, small_critic(), resumed, torch.device("cpu"))
        settings = {k: v for k, v in resumed_opt.defaults.items() if k != "fused"}
        looped_opt = type(resumed_opt)(looped.parameters(), **{**settings, "foreach": False})
        for net, optimizer in ((resumed, resumed_opt), (looped, looped_opt)):
            checkpoint.seek(0)
            payload = torch.load(checkpoint, weights_only=True)
            net.load_state_dict(payload["net"])
            load_optimizer_state(optimizer, payload["opt"])
        assert resumed_opt.param_groups[0]["fused"] and not looped_opt.param_groups[0]["fused"]  # each keeps its kernel
        conv_weight = resumed[0].weight
        assert all(v.stride() == conv_weight.stride() for v in resumed_opt.state[conv_weight].values() if v.dim() == 4)
        for _ in range(2):
            update(resumed, resumed_opt)
            update(looped, looped_opt)
        for fused, reference in zip(resumed.parameters(), looped.parameters()):
            torch.testing.assert_close(fused, reference, rtol=1e-5, atol=1e-6)
