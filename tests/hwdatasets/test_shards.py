"""HDF5 shards: round trip, manifest, verification, DataLoader workers, resume after a crash."""
from __future__ import annotations

import json
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from hwdatasets import Sample, ShardError, Shards, ShardWriter, read_manifest
from hwdatasets.shards import sha256_file

H = 4


def make_samples(n: int, height: int = H, seed: int = 0, prefix: str = "s") -> list[Sample]:
    rng = np.random.default_rng(seed)
    return [
        Sample(
            image=rng.integers(0, 256, size=(height, int(rng.integers(1, 30))), dtype=np.uint8),
            text=f"wörd {i}",
            writer=f"w{i % 3}",
            id=f"{prefix}{i}",
        )
        for i in range(n)
    ]


def write(folder: Path, samples: list[Sample], shard_size: int = 4, **kw) -> dict:
    with ShardWriter(folder, shard_size=shard_size, height=samples[0].image.shape[0] if samples else H, **kw) as w:
        for s in samples:
            w.add(s)
    return read_manifest(folder)


def assert_same(got: Sample, want: Sample) -> None:
    assert got.image.dtype == np.uint8 and got.image.shape == want.image.shape
    np.testing.assert_array_equal(got.image, want.image)
    assert (got.text, got.writer, got.id, got.style) == (want.text, want.writer, want.id, want.style)


# hypothesis: any list of samples round-trips unchanged. NUL is the one character HDF5 strings
# cannot hold; the writer refuses it with a clear error (tested below).
_str = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


@st.composite
def sample_lists(draw):
    height = draw(st.integers(1, 6))
    n = draw(st.integers(0, 12))
    out = []
    for i in range(n):
        width = draw(st.integers(1, 20))
        seed = draw(st.integers(0, 2**32 - 1))
        image = np.random.default_rng(seed).integers(0, 256, size=(height, width), dtype=np.uint8)
        out.append(Sample(image, draw(_str), draw(_str), draw(_str), draw(st.integers(-1, 2**31 - 1))))
    return height, out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample_lists(), st.integers(1, 5))
def test_any_samples_round_trip_unchanged(data, shard_size):
    height, samples = data
    with tempfile.TemporaryDirectory() as tmp:
        with ShardWriter(Path(tmp) / "s", shard_size=shard_size, height=height) as w:
            for s in samples:
                w.add(s)
        ds = Shards(Path(tmp) / "s", verify=True)
        assert len(ds) == len(samples) and ds.height == height
        assert len(ds.files) == -(-len(samples) // shard_size)
        for i, want in enumerate(samples):
            assert_same(ds[i], want)
        assert ds.texts() == [s.text for s in samples]
        assert ds.writers() == [s.writer for s in samples]
        assert ds.widths().tolist() == [s.image.shape[1] for s in samples]
        ds.close()


def test_nul_characters_are_refused_clearly(tmp_path):
    w = ShardWriter(tmp_path / "s", shard_size=2, height=H)
    with pytest.raises(ValueError, match="NUL"):
        w.add(Sample(np.zeros((H, 2), np.uint8), "a\x00b", "w", "x"))


def test_manifest_fields(tmp_path):
    samples = make_samples(10)
    manifest = write(
        tmp_path / "s", samples, shard_size=4, source="csv:/x/data.csv", license="CC BY 4.0", attribution="A. Author",
        provenance={"tool": "test", "seed": 1},
    )
    assert manifest["count"] == 10 and manifest["height"] == H
    assert manifest["alphabet"] == "".join(sorted(set("".join(s.text for s in samples))))
    assert manifest["writers"] == 3 and manifest["source"] == "csv:/x/data.csv"
    assert manifest["license"] == "CC BY 4.0" and manifest["attribution"] == "A. Author"
    assert manifest["provenance"] == {"tool": "test", "seed": 1}
    assert [e["file"] for e in manifest["shards"]] == ["shard-00000.h5", "shard-00001.h5", "shard-00002.h5"]
    assert [e["count"] for e in manifest["shards"]] == [4, 4, 2]
    for e in manifest["shards"]:
        assert e["sha256"] == sha256_file(tmp_path / "s" / e["file"])
    left = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert left == ["manifest.json", "shard-00000.h5", "shard-00001.h5", "shard-00002.h5"]  # no temp or progress files
    mode = lambda name: (tmp_path / "s" / name).stat().st_mode & 0o777  # noqa: E731
    assert mode("manifest.json") == mode("shard-00000.h5")  # as readable as the shards
    import h5py

    with h5py.File(tmp_path / "s" / "shard-00000.h5", "r") as f:
        assert f.attrs["height"] == H and f.attrs["count"] == 4 and f.attrs["license"] == "CC BY 4.0"
        assert json.loads(f.attrs["provenance"]) == {"tool": "test", "seed": 1}


def test_empty_writer_gives_an_empty_dataset(tmp_path):
    ShardWriter(tmp_path / "s", height=H).close()
    ds = Shards(tmp_path / "s")
    assert len(ds) == 0 and ds.texts() == [] and len(ds.widths()) == 0


def test_indexing_across_folders(tmp_path):
    a, b = make_samples(5, prefix="a"), make_samples(3, seed=1, prefix="b")
    write(tmp_path / "a", a, shard_size=2)
    write(tmp_path / "b", b, shard_size=2)
    ds = Shards([tmp_path / "a", str(tmp_path / "b")])
    assert len(ds) == 8
    for i, want in enumerate(a + b):
        assert_same(ds[i], want)
    assert_same(ds[-1], b[-1])
    with pytest.raises(IndexError):
        ds[8]
    write(tmp_path / "tall", make_samples(2, height=H + 1))
    with pytest.raises(ShardError, match="different image heights"):
        Shards([tmp_path / "a", tmp_path / "tall"])


def test_wrong_height_is_refused(tmp_path):
    w = ShardWriter(tmp_path / "s", height=H)
    with pytest.raises(ValueError, match="height"):
        w.add(make_samples(1, height=H + 1)[0])


def test_corrupted_shard_is_named_by_verify(tmp_path):
    write(tmp_path / "s", make_samples(10), shard_size=4)
    victim = tmp_path / "s" / "shard-00001.h5"
    data = bytearray(victim.read_bytes())
    for k in range(len(data) // 2, len(data) // 2 + 8):
        data[k] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(ShardError) as e:
        Shards(tmp_path / "s", verify=True)
    assert str(victim) in str(e.value) and "corrupt" in str(e.value)
    Shards(tmp_path / "s")  # without verify the folder still opens (the check is on request)


def test_missing_shard(tmp_path):
    write(tmp_path / "s", make_samples(10), shard_size=4)
    (tmp_path / "s" / "shard-00002.h5").unlink()
    with pytest.raises(ShardError, match=r"shard-00002\.h5: shard listed in .*manifest\.json is missing"):
        Shards(tmp_path / "s")


def test_no_manifest_gives_a_hint(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ShardError, match="manifest.json missing.*scrabblegan prepare"):
        Shards(tmp_path / "empty")
    w = ShardWriter(tmp_path / "unfinished", shard_size=2, height=H)
    for s in make_samples(3):
        w.add(s)
    with pytest.raises(ShardError, match="unfinished job: rerun the command"):
        Shards(tmp_path / "unfinished")
    with pytest.raises(ShardError, match="no such shard folder"):
        Shards(tmp_path / "nowhere")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(ShardError, match="broken manifest"):
        Shards(tmp_path / "bad")


def _collate(batch):
    return batch


def test_dataloader_with_two_workers_opens_files_lazily(tmp_path):
    samples = make_samples(20)
    write(tmp_path / "s", samples, shard_size=6)
    ds = Shards(tmp_path / "s")
    assert ds._handles == {}  # nothing opened until a sample is read
    assert_same(ds[7], samples[7])  # the parent opens a file before the workers start
    loader = DataLoader(ds, batch_size=3, shuffle=False, num_workers=2, collate_fn=_collate)
    got = [s for batch in loader for s in batch]
    assert len(got) == 20
    for g, want in zip(got, samples):
        assert_same(g, want)
    clone = pickle.loads(pickle.dumps(ds))  # what a spawn-started worker gets: no open handles
    assert clone._handles == {}
    assert_same(clone[19], samples[19])


def test_resume_after_a_crash_gives_the_full_set_once(tmp_path):
    samples = make_samples(23)
    fp = {"job": "test", "n": 23}
    w = ShardWriter(tmp_path / "s", shard_size=5, height=H, fingerprint=fp)
    for i, s in enumerate(samples[:17]):
        w.add(s, state={"next": i + 1})
    del w  # crash: 3 finished shards (15 samples), 2 buffered samples lost, no manifest
    assert not (tmp_path / "s" / "manifest.json").exists()
    w = ShardWriter(tmp_path / "s", shard_size=5, height=H, fingerprint=fp)
    assert w.resume_state == {"next": 15} and w.count == 15
    for i in range(w.resume_state["next"], len(samples)):
        w.add(samples[i], state={"next": i + 1})
    manifest = w.close()
    assert manifest["count"] == 23
    ds = Shards(tmp_path / "s", verify=True)
    assert [ds[i].id for i in range(len(ds))] == [s.id for s in samples]
    for i, want in enumerate(samples):
        assert_same(ds[i], want)


def test_resume_removes_a_shard_written_after_the_last_progress_save(tmp_path):
    samples = make_samples(12)
    w = ShardWriter(tmp_path / "s", shard_size=4, height=H)
    for i, s in enumerate(samples[:8]):
        w.add(s, state=i + 1)
    # a crash between renaming shard 2 and saving progress: the file exists but is not recorded
    (tmp_path / "s" / "shard-00002.h5").write_bytes((tmp_path / "s" / "shard-00001.h5").read_bytes())
    # and the temporary files of writes that a kill interrupted
    for junk in (".shard-00003.h5.tmp", "..progress.json.abc123.tmp", ".manifest.json.xyz.tmp"):
        (tmp_path / "s" / junk).write_bytes(b"half")
    del w
    w = ShardWriter(tmp_path / "s", shard_size=4, height=H)
    assert w.resume_state == 8 and not (tmp_path / "s" / "shard-00002.h5").exists()
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [".progress.json", "shard-00000.h5", "shard-00001.h5"]
    for s in samples[8:]:
        w.add(s, state=None)
    assert w.close()["count"] == 12
    assert [Shards(tmp_path / "s")[i].id for i in range(12)] == [s.id for s in samples]


def test_resume_with_another_fingerprint_is_an_error(tmp_path):
    w = ShardWriter(tmp_path / "s", shard_size=2, height=H, fingerprint={"seed": 1})
    for s in make_samples(3):
        w.add(s)
    del w
    with pytest.raises(ShardError, match="unfinished job started with other arguments"):
        ShardWriter(tmp_path / "s", shard_size=2, height=H, fingerprint={"seed": 2})


def test_resume_refuses_a_changed_finished_shard(tmp_path):
    w = ShardWriter(tmp_path / "s", shard_size=2, height=H)
    for s in make_samples(3):
        w.add(s)
    del w
    (tmp_path / "s" / "shard-00000.h5").write_bytes(b"changed")
    with pytest.raises(ShardError, match="missing or changed"):
        ShardWriter(tmp_path / "s", shard_size=2, height=H)


def test_finished_folder_is_not_overwritten(tmp_path):
    write(tmp_path / "s", make_samples(3))
    with pytest.raises(ShardError, match="already holds a finished shard folder"):
        ShardWriter(tmp_path / "s", height=H)
