"""Resume from an older checkpoint: the newer work moves to abandoned/, the run keeps one timeline."""

from __future__ import annotations

from conftest import run_cli, train_tiny
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def loss_steps(folder) -> list[int]:
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return [e.step for e in acc.Scalars("loss/D")]


def test_resume_from_an_older_checkpoint_moves_the_newer_work_aside(tmp_path):
    run_dir = tmp_path / "run"
    train_tiny(run_dir, "trainer.checkpoint_every=2", "trainer.keep_checkpoints=0")
    old_step4 = (run_dir / "checkpoints" / "step_000004.pt").read_bytes()
    result = run_cli("train", f"resume={run_dir / 'checkpoints' / 'step_000002.pt'}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "abandoned" in result.stdout + result.stderr
    [branch] = (run_dir / "abandoned").iterdir()
    assert branch.name.startswith("after_step_000002_")
    assert (branch / "checkpoints" / "step_000004.pt").read_bytes() == old_step4
    assert (branch / "samples" / "step_000004.png").is_file()
    assert loss_steps(branch) == [2, 4], "the abandoned steps' event records are kept"
    # the run itself: the new step 4, and one timeline in its event files
    assert (run_dir / "checkpoints" / "step_000004.pt").is_file()
    assert loss_steps(run_dir) == [2, 4]
