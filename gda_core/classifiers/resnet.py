"""A torchvision ResNet-18 trained from scratch, adapted to small grey or RGB images."""

from __future__ import annotations

from torch import nn

from gda_core._compat.torchvision import import_torchvision
from gda_core.classifiers.trainer import CNNClassifier

SMALL_IMAGE = 64
"""Images with a side below this many pixels get the small-image stem (3x3, no max-pool)."""


def resnet18(in_channels: int, n_classes: int,
             image_size: int | tuple[int, int]) -> nn.Module:
    """torchvision's ``resnet18(weights=None)`` with its stem fitted to the images.

    The first convolution takes ``in_channels`` (1 or 3) channels.  For images smaller
    than :data:`SMALL_IMAGE` pixels on a side it is a 3x3 stride-1 convolution and the
    max-pool is dropped (as in CIFAR ResNets), so 8x8 digits still reach the last stage
    as 1x1 maps instead of vanishing; larger images keep the ImageNet stem (7x7 stride 2
    and max-pool).  Nothing is downloaded: the weights are random (He-normal as in
    torchvision), so call it inside a seeded RNG for reproducible weights.

    Parameters
    ----------
    in_channels : int
    n_classes : int
    image_size : int or (int, int)
        Side, or ``(height, width)``, of the inputs.

    Returns
    -------
    torch.nn.Module
        Maps ``(N, in_channels, H, W)`` floats to ``(N, n_classes)`` logits.

    Examples
    --------
    >>> import torch
    >>> net = resnet18(1, 10, 8)
    >>> net(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """
    tv = import_torchvision()
    h, w = (image_size, image_size) if isinstance(image_size, int) else image_size
    net = tv.models.resnet18(weights=None, num_classes=int(n_classes))
    if min(h, w) < SMALL_IMAGE:
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
    return net


class ResNetClassifier(CNNClassifier):
    """:class:`~gda_core.classifiers.CNNClassifier` training :func:`resnet18` instead.

    Training (Adam, validation split, early stopping, losses, seeding) is the same; the
    architecture parameters ``width``, ``fc_units`` and ``dropout`` are accepted but not
    used.  Expect it to be far slower than the AM-study CNN on a CPU (11 M weights, and
    full-resolution 64-channel maps in its first stage for small images).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> d = load_digits()
    >>> X = (d.images[:, None] * 16).clip(0, 255).astype("uint8")
    >>> clf = ResNetClassifier(epochs=1).fit(X[:200], d.target[:200])  # doctest: +SKIP
    """

    _min_batch = 2  # batch norm cannot train on one image with 1x1 maps

    def _build_model(self, in_channels: int, n_classes: int,
                     image_size: tuple[int, int]) -> nn.Module:
        return resnet18(in_channels, n_classes, image_size)
