"""Plausible submissions for 06_data (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_other_apis": {
        "why": "a Dataset subclass, NumPy preprocessing before tf.data, a BatchSampler, one-hot by indexing an identity",
        "answers": {
            "q1_dataset_pytorch": (
                "def make_dataset_pytorch(images, labels):\n"
                "    class Digits(torch.utils.data.Dataset):\n"
                "        def __len__(self):\n"
                "            return len(images)\n"
                "        def __getitem__(self, i):\n"
                "            x = torch.tensor(images[i], dtype=torch.float32).unsqueeze(0) / 16\n"
                "            return x, torch.tensor(labels[i], dtype=torch.int64)\n"
                "    return Digits()\n"),
            "q1_dataset_tensorflow": (
                "def make_dataset_tensorflow(images, labels):\n"
                "    x = (np.asarray(images, np.float32) / np.float32(16))[..., None]\n"
                "    return tf.data.Dataset.from_tensor_slices((x, np.asarray(labels).astype(np.int64)))\n"),
            "q2_batches_pytorch": (
                "def make_loader_pytorch(x, y, batch_size, drop_last):\n"
                "    sampler = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(len(x))),\n"
                "                                            batch_size, drop_last)\n"
                "    return DataLoader(TensorDataset(x, y), batch_sampler=sampler)\n"),
            "q3_normalize_pytorch": (
                "def normalize_one_hot_pytorch(x, y, mean, std, num_classes):\n"
                "    return (x.float() - mean) / std, torch.eye(num_classes)[y]\n"),
            "q3_normalize_tensorflow": (
                "def normalize_one_hot_tensorflow(x, y, mean, std, num_classes):\n"
                "    return (tf.cast(x, tf.float32) - mean) / std, tf.gather(tf.eye(num_classes), y)\n"),
        },
    },
    "alternatives_order_by_hand": {
        "why": "a Subset in the given order instead of a sampler; gathering the ordered examples up front",
        "answers": {
            "q5_order_pytorch": (
                "def loader_in_order_pytorch(images, labels, order, batch_size):\n"
                "    x = torch.from_numpy(np.asarray(images, np.float32) / 16).unsqueeze(1)\n"
                "    y = torch.from_numpy(np.asarray(labels).astype(np.int64))\n"
                "    subset = torch.utils.data.Subset(TensorDataset(x, y), [int(i) for i in order])\n"
                "    return DataLoader(subset, batch_size=batch_size, shuffle=False)\n"),
            "q5_order_tensorflow": (
                "def dataset_in_order_tensorflow(images, labels, order, batch_size):\n"
                "    order = np.asarray(order)\n"
                "    x = (np.asarray(images, np.float32)[order] / np.float32(16))[..., None]\n"
                "    y = np.asarray(labels).astype(np.int64)[order]\n"
                "    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)\n"),
        },
    },
    "mistake_q1_pixels_not_scaled": {
        "why": "images / 16 forgotten",
        "answers": {"q1_dataset_pytorch": (
            "def make_dataset_pytorch(images, labels):\n"
            "    return TensorDataset(torch.from_numpy(np.asarray(images)).float().unsqueeze(1),\n"
            "                         torch.from_numpy(np.asarray(labels).astype(np.int64)))\n")},
        "fails": ["test_q1_dataset_pytorch"],
    },
    "mistake_q1_float64_leaks_in": {
        "why": "uint8 / 16.0 in NumPy is float64",
        "answers": {"q1_dataset_tensorflow": (
            "def make_dataset_tensorflow(images, labels):\n"
            "    return tf.data.Dataset.from_tensor_slices((np.asarray(images)[..., None] / 16.0,\n"
            "                                               np.asarray(labels).astype(np.int64)))\n")},
        "fails": ["test_q1_dataset_tensorflow"],
    },
    "mistake_q2_remainder_kept": {
        "why": "drop_remainder ignored: the short last batch stays",
        "answers": {"q2_batches_tensorflow": (
            "def make_batches_tensorflow(x, y, batch_size, drop_remainder):\n"
            "    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)\n")},
        "fails": ["test_q2_batches_tensorflow"],
    },
    "mistake_q3_one_hot_stays_int64": {
        "why": "F.one_hot returns int64, the loss wants float32",
        "answers": {"q3_normalize_pytorch": (
            "def normalize_one_hot_pytorch(x, y, mean, std, num_classes):\n"
            "    return (x.to(torch.float32) - mean) / std, torch.nn.functional.one_hot(y, num_classes)\n")},
        "fails": ["test_q3_normalize_pytorch"],
    },
    "mistake_q5_shuffled_instead_of_ordered": {
        "why": "shuffle=True instead of the given order: batches differ from TensorFlow's",
        "answers": {"q5_order_pytorch": (
            "def loader_in_order_pytorch(images, labels, order, batch_size):\n"
            "    order = np.asarray(order)\n"
            "    dataset = TensorDataset(torch.from_numpy(np.asarray(images)[order]).float().div(16).unsqueeze(1),\n"
            "                            torch.from_numpy(np.asarray(labels)[order].astype(np.int64)))\n"
            "    return DataLoader(dataset, batch_size=batch_size, shuffle=True)\n")},
        "fails": ["test_q5_order_pytorch", "test_q5_order_parity"],
    },
}
