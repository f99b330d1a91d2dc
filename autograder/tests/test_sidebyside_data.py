"""Unit tests of sidebyside.data: the digits loader, the IDX format, the split and batch orders,
and the shipped sample in course/data/digits (it must equal what export_sample writes)."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest

from sidebyside import data

# --- the digits ------------------------------------------------------------------------------------


def test_load_digits_shapes_dtypes_and_values():
    images, labels = data.load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16
    assert sorted(np.unique(labels)) == list(range(10))
    assert np.bincount(labels).min() >= 170  # about 180 per class
    # the first digit of the UCI set is a 0
    assert labels[0] == 0 and images[0, 0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_load_digits_as_float_and_fresh_copies():
    images, labels = data.load_digits()
    floats, labels2 = data.load_digits(as_float=True)
    assert floats.dtype == np.float32 and floats.shape == images.shape
    assert floats.min() == 0.0 and floats.max() == 1.0
    np.testing.assert_array_equal(floats, images.astype(np.float32) / 16)
    np.testing.assert_array_equal(labels, labels2)
    images[0] = 99  # callers get their own arrays: the cache is not touched
    assert data.load_digits()[0][0].max() <= 16


def test_load_digits_does_not_import_sklearn_and_matches_it():
    code = ("import sys; from sidebyside import data; x, y = data.load_digits(); "
            "print('sklearn' in sys.modules, x.shape, y.dtype)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "(1797,", "8,", "8)", "int64"]
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    images, labels = data.load_digits()
    np.testing.assert_array_equal(images, reference.images)
    np.testing.assert_array_equal(labels, reference.target)


def test_digits_csv_path_is_inside_sklearn():
    path = data.digits_csv_path()
    assert path.name == "digits.csv.gz" and path.parent.parent.parent.name == "sklearn"


def test_to_uint8_range():
    out = data.to_uint8_range(np.arange(17, dtype=np.uint8))
    assert out.dtype == np.uint8 and out[0] == 0 and out[16] == 255 and out[8] == 128
    assert np.all(np.diff(out.astype(int)) > 0)


# --- split and order -------------------------------------------------------------------------------


def test_split_indices_is_stratified_disjoint_sorted_and_deterministic():
    _, labels = data.load_digits()
    train, test = data.split_indices(labels, test_fraction=0.2, seed=0)
    assert train.dtype == np.int64 and test.dtype == np.int64
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(labels)
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    counts, test_counts = np.bincount(labels), np.bincount(labels[test], minlength=10)
    np.testing.assert_array_equal(test_counts, np.round(0.2 * counts).astype(int))
    again = data.split_indices(labels, test_fraction=0.2, seed=0)
    np.testing.assert_array_equal(again[1], test)
    assert not np.array_equal(data.split_indices(labels, 0.2, seed=1)[1], test)
    with pytest.raises(ValueError):
        data.split_indices(labels, test_fraction=1.5)


def test_epoch_order_is_a_reproducible_permutation_that_changes_per_epoch():
    first = data.epoch_order(50, epoch=0, seed=0)
    assert first.dtype == np.int64 and sorted(first.tolist()) == list(range(50))
    np.testing.assert_array_equal(first, data.epoch_order(50, epoch=0, seed=0))
    assert not np.array_equal(first, data.epoch_order(50, epoch=1, seed=0))
    assert not np.array_equal(first, data.epoch_order(50, epoch=0, seed=1))


def test_batch_indices_keep_or_drop_the_last_partial_batch():
    order = np.arange(10)[::-1]
    kept = data.batch_indices(order, 4)
    assert [b.tolist() for b in kept] == [[9, 8, 7, 6], [5, 4, 3, 2], [1, 0]]
    dropped = data.batch_indices(order, 4, drop_last=True)
    assert [len(b) for b in dropped] == [4, 4]
    assert [len(b) for b in data.batch_indices(order, 5, drop_last=True)] == [5, 5]
    assert data.batch_indices([], 3) == []
    with pytest.raises(ValueError):
        data.batch_indices(order, 0)


# --- IDX -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    path = data.write_idx(tmp_path / f"a-idx3{suffix}", array)
    back = data.read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)
    back[0, 0, 0] = 1  # writable, native byte order
    assert back.dtype.isnative


def test_idx_header_is_mnists_big_endian_layout(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = data.encode_idx(images)
    assert raw[:4] == bytes([0, 0, 0x08, 3])  # magic 0x00000803 = 2051: MNIST's image files
    assert struct.unpack(">I", raw[:4])[0] == 2051
    assert struct.unpack(">3I", raw[4:16]) == (2, 3, 4)
    assert raw[16:] == images.tobytes()
    labels = data.encode_idx(np.array([7, 2, 1], dtype=np.uint8))
    assert struct.unpack(">II", labels[:8]) == (2049, 3) and labels[8:] == bytes([7, 2, 1])
    ints = data.encode_idx(np.array([1, 256], dtype=np.int32))
    assert ints[:4] == bytes([0, 0, 0x0C, 1]) and ints[8:] == bytes([0, 0, 0, 1, 0, 0, 1, 0])  # big-endian values


def test_gzip_output_is_reproducible(tmp_path):
    a = np.arange(100, dtype=np.uint8)
    one = data.write_idx(tmp_path / "one.gz", a).read_bytes()
    two = data.write_idx(tmp_path / "two.gz", a).read_bytes()
    assert one == two  # no time stamp, no file name in the gzip header
    assert gzip.decompress(one) == data.encode_idx(a)


@pytest.mark.parametrize("corrupt, message", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "does not start with 0000"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown type code 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05\x06", "size mismatch"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x05\x06", "size mismatch"),
    (b"\x00\x00", "shorter than the 4-byte magic number"),
])
def test_corrupt_idx_gives_a_clear_error(tmp_path, corrupt, message):
    with pytest.raises(data.IdxFormatError, match=message):
        data.decode_idx(corrupt)
    path = tmp_path / "bad-idx"
    path.write_bytes(corrupt)
    with pytest.raises(ValueError, match=f"bad-idx: .*{message}"):  # IdxFormatError is a ValueError
        data.read_idx(path)


def test_gzip_bytes_given_to_decode_idx_get_a_hint():
    with pytest.raises(data.IdxFormatError, match="gzip data"):
        data.decode_idx(gzip.compress(data.encode_idx(np.zeros(3, np.uint8))))


def test_encode_idx_refuses_types_idx_cannot_hold():
    with pytest.raises(TypeError, match="astype"):
        data.encode_idx(np.array([1, 2], dtype=np.int64))
    with pytest.raises(ValueError):
        data.encode_idx(np.float32(1.0))


# --- PNG and the shipped sample --------------------------------------------------------------------


def test_encode_png_decodes_with_pillow():
    Image = pytest.importorskip("PIL.Image")
    import io

    image = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    decoded = Image.open(io.BytesIO(data.encode_png(image)))
    assert decoded.mode == "L" and decoded.size == (4, 3)
    np.testing.assert_array_equal(np.asarray(decoded), image)
    with pytest.raises(ValueError):
        data.encode_png(np.zeros((2, 2, 3), np.uint8))


def test_shipped_sample_equals_what_export_sample_writes(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    written = data.export_sample(tmp_path)
    fresh = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    shipped = sorted(p.relative_to(data.SAMPLE_DIR).as_posix() for p in data.SAMPLE_DIR.rglob("*") if p.is_file())
    assert shipped == fresh, "course/data/digits differs from data.export_sample(): re-export it"
    for name in fresh:
        new, old = (tmp_path / name).read_bytes(), (data.SAMPLE_DIR / name).read_bytes()
        if name.endswith(".gz"):  # compressed bytes may differ between zlib versions; the content may not
            assert gzip.decompress(new) == gzip.decompress(old), name
        elif name.endswith(".npz"):  # a zip archive holds time stamps: compare the arrays
            with np.load(tmp_path / name) as a, np.load(data.SAMPLE_DIR / name) as b:
                assert sorted(a.files) == sorted(b.files), name
                for key in a.files:
                    np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}:{key}")
        else:
            np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / name)),
                                          np.asarray(Image.open(data.SAMPLE_DIR / name)), err_msg=name)
    total = sum((data.SAMPLE_DIR / name).stat().st_size for name in fresh)
    assert total < 300_000


def test_shipped_sample_holds_the_digits_it_claims():
    images, labels = data.load_digits()
    chosen = data.sample_indices()
    for part, size in (("train", 200), ("test", 50)):
        x, y = data.load_sample(part)
        assert x.shape == (size, 8, 8) and x.dtype == np.uint8 and y.dtype == np.uint8
        np.testing.assert_array_equal(x, images[chosen[part]])
        np.testing.assert_array_equal(y, labels[chosen[part]])
    np.testing.assert_array_equal(data.load_sample("t10k")[1], data.load_sample("test")[1])
    pngs = sorted((data.SAMPLE_DIR / "by_class").glob("*/*.png"))
    assert len(pngs) == 30
    assert sorted({p.parent.name for p in pngs}) == [str(c) for c in range(10)]
    for p in pngs:
        assert labels[int(p.stem)] == int(p.parent.name)
    with pytest.raises(ValueError):
        data.load_sample("validation")


# --- MNIST format (keras.datasets.mnist's mnist.npz) --------------------------------------------------


def test_to_mnist_format_upsamples_and_centres():
    digit = np.zeros((8, 8), np.uint8)
    digit[0, 0], digit[7, 7], digit[3, 4] = 16, 8, 1
    out = data.to_mnist_format(digit)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out[:2].max() == 0 and out[-2:].max() == 0 and out[:, :2].max() == 0 and out[:, -2:].max() == 0
    assert (out[2:5, 2:5] == 255).all() and (out[23:26, 23:26] == 128).all() and (out[11:14, 14:17] == 16).all()
    assert int(out.sum()) == 9 * (255 + 128 + 16)
    batch = data.to_mnist_format(np.stack([digit, digit]))
    assert batch.shape == (2, 28, 28)
    with pytest.raises(ValueError):
        data.to_mnist_format(np.zeros((28, 28), np.uint8))


def test_mnist_npz_has_keras_layout_and_round_trips(tmp_path):
    path = data.write_mnist_npz(tmp_path / "mnist.npz")
    (x_train, y_train), (x_test, y_test) = data.load_mnist_npz(path)
    assert x_train.shape == (200, 28, 28) and x_test.shape == (50, 28, 28)
    assert x_train.dtype == x_test.dtype == y_train.dtype == y_test.dtype == np.uint8
    assert x_train.max() == 255 and sorted(np.unique(y_train)) == list(range(10))
    train_8x8, train_labels = data.load_sample("train")
    np.testing.assert_array_equal(x_train, data.to_mnist_format(train_8x8))
    np.testing.assert_array_equal(y_train, train_labels)
    with np.load(path) as f:  # exactly the four arrays keras.datasets.mnist.load_data reads
        assert sorted(f.files) == sorted(data.MNIST_KEYS)
    np.savez(tmp_path / "other.npz", images=x_train)
    with pytest.raises(KeyError, match="not an mnist.npz"):
        data.load_mnist_npz(tmp_path / "other.npz")


def test_shipped_mnist_npz_is_what_keras_load_data_reads():
    """keras.datasets.mnist.load_data ends with np.load + four keys; its file check would refuse the
    course's file (a different SHA-256), which is why load_mnist_npz exists."""
    from keras.src.datasets import mnist
    from keras.src.utils.file_utils import validate_file
    import inspect

    source = inspect.getsource(mnist.load_data)
    assert all(f'f["{k}"]' in source for k in data.MNIST_KEYS)
    real_hash = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    assert real_hash in source
    assert not validate_file(str(data.SAMPLE_DIR / data.MNIST_NPZ), real_hash)
