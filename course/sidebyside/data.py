"""The course's real image data, and the standard file formats it ships in.

The UCI handwritten digits (1797 grayscale images of 8x8 pixels, values 0..16, classes 0..9) come
with scikit-learn, so the course runs offline. ``load_digits`` reads them straight from
scikit-learn's installed package files, without importing scikit-learn.

A small sample is also shipped in ``course/data/digits/`` in two standard on-disk formats:

* MNIST's **IDX** files (``train-images-idx3-ubyte.gz`` ...): ``read_idx`` / ``write_idx``.
* a **folder per class** of PNG files (``by_class/3/0042.png``), what
  ``keras.utils.image_dataset_from_directory`` and a torchvision ``ImageFolder`` read.
* ``mnist.npz``: the same IDX sample resampled to MNIST's 28x28 and 0..255 (``to_mnist_format``),
  in the file format of ``keras.datasets.mnist.load_data`` (``load_mnist_npz`` reads it offline;
  chapter 03).

``export_sample`` wrote those files; ``autograder/tests/test_sidebyside_data.py`` checks that they
still equal what it produces. ``split_indices`` and ``epoch_order`` give the deterministic
train/test split and the shared per-epoch permutation that let PyTorch and TensorFlow see the
same examples in the same order (chapters 06 and 09).

Only NumPy and the standard library are used here, so the frameworks stay out of the helpers.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

NUM_CLASSES = 10
IMAGE_SHAPE = (8, 8)
MAX_PIXEL = 16  # digits pixels are counts 0..16 (4x4 blocks of a 32x32 bitmap)
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "digits"  # course/data/digits
SAMPLE_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
SAMPLE_SIZES = {"train": 200, "test": 50, "png_per_class": 3}
MNIST_NPZ = "mnist.npz"  # the name keras.datasets.mnist.load_data caches MNIST under
MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")  # the arrays load_data reads from it
MNIST_SHAPE = (28, 28)

# --- the digits, from scikit-learn's package files -------------------------------------------------


def digits_csv_path() -> Path:
    """Where scikit-learn keeps ``digits.csv.gz``, found without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")  # locates the package; does not run its __init__
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-learn is not installed: it carries the digits dataset "
                                "(pip install scikit-learn, see environment.yml)")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz"
    if not path.exists():
        raise FileNotFoundError(f"scikit-learn is installed but {path} is missing")
    return path


@lru_cache(maxsize=1)
def _digits_table() -> np.ndarray:
    table = np.loadtxt(digits_csv_path(), delimiter=",", dtype=np.float64)
    if table.shape != (1797, 65) or not np.array_equal(table, np.round(table)):
        raise ValueError(f"unexpected digits.csv.gz: shape {table.shape}, expected (1797, 65) integers")
    table = table.astype(np.int64)
    table.flags.writeable = False
    return table


def load_digits(as_float: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The 1797 UCI digits as ``(images, labels)``, fresh arrays each call.

    images: ``(1797, 8, 8)``, uint8 with values 0..16; with ``as_float=True`` float32 scaled to
            [0, 1] (divided by 16).
    labels: ``(1797,)`` int64 class ids 0..9 (the dtype PyTorch's losses expect).
    """
    table = _digits_table()
    images = table[:, :64].reshape(-1, *IMAGE_SHAPE).astype(np.uint8)
    labels = table[:, 64].astype(np.int64)
    if as_float:
        images = images.astype(np.float32) / np.float32(MAX_PIXEL)
    return images, labels


def to_uint8_range(images) -> np.ndarray:
    """Rescale digits pixels 0..16 to the 0..255 of ordinary 8-bit images: round(v * 255 / 16)."""
    v = np.asarray(images).astype(np.uint16)
    return ((v * 255 + MAX_PIXEL // 2) // MAX_PIXEL).astype(np.uint8)


def to_mnist_format(images) -> np.ndarray:
    """Digits (..., 8, 8) with pixels 0..16 as MNIST-like images (..., 28, 28) uint8 0..255.

    Each pixel becomes a 3x3 block (24x24, nearest-neighbour upsampling), centred with a
    2-pixel empty border, as MNIST centres its digits in a 28x28 frame."""
    a = to_uint8_range(images)
    if a.shape[-2:] != IMAGE_SHAPE:
        raise ValueError(f"to_mnist_format wants (..., 8, 8) digits, got shape {a.shape}")
    big = np.repeat(np.repeat(a, 3, axis=-2), 3, axis=-1)
    return np.pad(big, [(0, 0)] * (a.ndim - 2) + [(2, 2), (2, 2)])


# --- deterministic split and batch order -----------------------------------------------------------


def split_indices(labels, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified train/test split: ``(train_idx, test_idx)``, sorted int64 index arrays.

    Each class puts ``round(test_fraction * count)`` of its examples in the test set, chosen by
    ``np.random.default_rng(seed)``, so the split is the same on every machine and for both
    frameworks.
    """
    labels = np.asarray(labels)
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        test.append(members[: int(round(test_fraction * len(members)))])
    test_idx = np.sort(np.concatenate(test)).astype(np.int64) if test else np.zeros(0, np.int64)
    train_idx = np.setdiff1d(np.arange(len(labels)), test_idx).astype(np.int64)
    return train_idx, test_idx


def epoch_order(n: int, epoch: int = 0, seed: int = 0) -> np.ndarray:
    """The shuffled order of epoch ``epoch``: a permutation of ``range(n)`` (int64).

    Drawn by NumPy from ``(seed, epoch)``, so it is reproducible, differs from epoch to epoch, and
    can be handed to a PyTorch ``DataLoader`` and a ``tf.data`` pipeline alike.
    """
    return np.random.default_rng([seed, epoch]).permutation(n).astype(np.int64)


def batch_indices(order, batch_size: int, drop_last: bool = False) -> list[np.ndarray]:
    """Split an order of example indices into consecutive batches (the last may be short,
    unless ``drop_last``): the batches a loader should produce, as index arrays."""
    order = np.asarray(order, dtype=np.int64)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    return [order[i:i + batch_size] for i in range(0, stop, batch_size)]


# --- the IDX format (MNIST's files) ----------------------------------------------------------------
# A file is: 2 zero bytes, a type code, the number of dimensions d, then d big-endian uint32 sizes,
# then the values, big-endian, in C order. MNIST images: magic 0x00000803 (uint8, 3-D), labels:
# 0x00000801 (uint8, 1-D). http://yann.lecun.com/exdb/mnist/ ("FILE FORMATS FOR THE MNIST DATABASE")

IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"


class IdxFormatError(ValueError):
    """The bytes are not a valid IDX file."""


def encode_idx(array) -> bytes:
    """The IDX bytes (uncompressed) of a NumPy array of dtype uint8, int8, int16, int32, float32
    or float64 with 1 to 255 dimensions."""
    a = np.asarray(array)
    codes = {dt.newbyteorder("=").str: code for code, dt in IDX_TYPES.items()}
    code = codes.get(a.dtype.newbyteorder("=").str)
    if code is None:
        raise TypeError(f"IDX has no type for {a.dtype}; cast first (labels: astype(np.uint8))")
    if not 1 <= a.ndim <= 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {a.ndim}")
    header = struct.pack(">BBBB", 0, 0, code, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + np.ascontiguousarray(a, dtype=IDX_TYPES[code]).tobytes()


def decode_idx(raw: bytes) -> np.ndarray:
    """A NumPy array (native byte order) from IDX bytes; ``IdxFormatError`` if they are not IDX."""
    raw = bytes(raw)
    if len(raw) < 4:
        raise IdxFormatError(f"not an IDX file: {len(raw)} bytes, shorter than the 4-byte magic number")
    zero1, zero2, code, ndim = raw[:4]
    if (zero1, zero2) != (0, 0):
        hint = " (gzip data: decompress first, or use read_idx)" if raw[:2] == GZIP_MAGIC else ""
        raise IdxFormatError(f"not an IDX file: magic number {raw[:4].hex()} does not start with 0000{hint}")
    if code not in IDX_TYPES:
        raise IdxFormatError(f"not an IDX file: unknown type code 0x{code:02x} in magic number {raw[:4].hex()}")
    if ndim == 0:
        raise IdxFormatError("not an IDX file: 0 dimensions in the magic number")
    if len(raw) < 4 + 4 * ndim:
        raise IdxFormatError(f"truncated IDX header: {ndim} dimensions need {4 + 4 * ndim} bytes, got {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = IDX_TYPES[code]
    expected = 4 + 4 * ndim + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise IdxFormatError(f"IDX size mismatch: header says shape {shape} of {dtype.newbyteorder('=').name} "
                             f"({expected} bytes in all), the data has {len(raw)} bytes")
    values = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not: detected from its first bytes)."""
    raw = Path(path).read_bytes()
    if raw[:2] == GZIP_MAGIC:
        raw = gzip.decompress(raw)
    try:
        return decode_idx(raw)
    except IdxFormatError as e:
        raise IdxFormatError(f"{path}: {e}") from None


def _gzip(raw: bytes) -> bytes:
    """gzip without a time stamp or file name in the header, so the same data gives the same file."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as f:
        f.write(raw)
    return buffer.getvalue()


def write_idx(path, array) -> Path:
    """Write ``array`` as an IDX file; gzip-compressed when the name ends in ``.gz``."""
    path = Path(path)
    raw = encode_idx(array)
    path.write_bytes(_gzip(raw) if path.suffix == ".gz" else raw)
    return path


# --- PNG (8-bit grayscale), for the folder-per-class sample ----------------------------------------


def encode_png(image) -> bytes:
    """A minimal 8-bit grayscale PNG of a 2-D uint8 array (no filters, zlib level 9)."""
    a = np.asarray(image)
    if a.ndim != 2 or a.dtype != np.uint8:
        raise ValueError(f"encode_png wants a 2-D uint8 array, got {a.ndim}-D {a.dtype}")
    h, w = a.shape

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    scanlines = b"".join(b"\x00" + a[row].tobytes() for row in range(h))  # filter type 0 per row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(scanlines, 9)) + chunk(b"IEND", b""))


# --- the shipped sample ----------------------------------------------------------------------------


def sample_indices(seed: int = 0) -> dict[str, np.ndarray]:
    """Which digits the shipped sample holds: the first examples of ``split_indices``' train and
    test sets, and the first ``png_per_class`` test examples of every class."""
    _, labels = load_digits()
    train_idx, test_idx = split_indices(labels, test_fraction=0.2, seed=seed)
    per_class = SAMPLE_SIZES["png_per_class"]
    png = np.concatenate([test_idx[labels[test_idx] == c][:per_class] for c in range(NUM_CLASSES)])
    return {"train": train_idx[:SAMPLE_SIZES["train"]], "test": test_idx[:SAMPLE_SIZES["test"]], "png": png}


def mnist_arrays(directory=SAMPLE_DIR) -> dict[str, np.ndarray]:
    """The shipped IDX sample as MNIST-format arrays, keyed like keras' ``mnist.npz``: images
    ``(n, 28, 28)`` uint8 0..255 (``to_mnist_format``), labels ``(n,)`` uint8."""
    (x_train, y_train), (x_test, y_test) = load_sample("train", directory), load_sample("test", directory)
    return {"x_train": to_mnist_format(x_train), "y_train": y_train.astype(np.uint8),
            "x_test": to_mnist_format(x_test), "y_test": y_test.astype(np.uint8)}


def write_mnist_npz(path, directory=SAMPLE_DIR) -> Path:
    """Write ``mnist_arrays(directory)`` as an ``.npz`` in the format of Keras' ``mnist.npz``."""
    path = Path(path)
    np.savez_compressed(path, **mnist_arrays(directory))
    return path


def load_mnist_npz(path=SAMPLE_DIR / MNIST_NPZ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))`` from an ``mnist.npz``: what
    ``keras.datasets.mnist.load_data`` returns once it has the file, without its download step.

    (``load_data(path)`` takes a file *name* under ``~/.keras/datasets``, checks the file's
    SHA-256 against the real MNIST file, and downloads it when the check fails: it cannot read a
    course file offline.)"""
    with np.load(Path(path), allow_pickle=False) as f:
        missing = [k for k in MNIST_KEYS if k not in f.files]
        if missing:
            raise KeyError(f"{path} is not an mnist.npz: no {missing} (it has {sorted(f.files)})")
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def export_sample(out_dir=SAMPLE_DIR, seed: int = 0) -> list[Path]:
    """Write the shipped sample into ``out_dir``; returns the files written.

    * IDX (MNIST's names and format, gzip): ``train-*`` holds ``SAMPLE_SIZES['train']`` examples of
      the train split, ``t10k-*`` ``SAMPLE_SIZES['test']`` of the test split; images uint8 0..16
      (the dataset's own values), labels uint8.
    * ``mnist.npz``: those IDX files as MNIST-format arrays (``write_mnist_npz``).
    * ``by_class/<label>/<index>.png``: ``png_per_class`` test images per class, rescaled to 0..255
      (``to_uint8_range``) like any 8-bit image; ``<index>`` is the row in ``load_digits()``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images, labels = load_digits()
    chosen = sample_indices(seed)
    written = []
    for part in ("train", "test"):
        idx = chosen[part]
        written.append(write_idx(out / SAMPLE_FILES[f"{part}_images"], images[idx]))
        written.append(write_idx(out / SAMPLE_FILES[f"{part}_labels"], labels[idx].astype(np.uint8)))
    written.append(write_mnist_npz(out / MNIST_NPZ, out))
    for i in chosen["png"]:
        folder = out / "by_class" / str(int(labels[i]))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{int(i):04d}.png"
        path.write_bytes(encode_png(to_uint8_range(images[i])))
        written.append(path)
    return written


def load_sample(part: str = "train", directory=SAMPLE_DIR) -> tuple[np.ndarray, np.ndarray]:
    """The shipped IDX sample: ``(images uint8 (n, 8, 8), labels uint8 (n,))`` of ``part``
    ('train' or 't10k'/'test')."""
    part = "test" if part == "t10k" else part
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    d = Path(directory)
    return read_idx(d / SAMPLE_FILES[f"{part}_images"]), read_idx(d / SAMPLE_FILES[f"{part}_labels"])


# --- a small text (chapter 11's character language model) ------------------------------------------

TEXT_DIR = Path(__file__).resolve().parents[1] / "data" / "text"  # course/data/text (sources in its README)


def load_text(name: str = "alice_ch1.txt") -> str:
    """A shipped plain-text file of ``course/data/text/`` as a string (ASCII, ``\\n`` line ends)."""
    return (TEXT_DIR / name).read_text(encoding="ascii")
