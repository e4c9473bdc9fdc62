"""Network definitions shared by train.py, export_backbone.py and torch_bench.py.

- DemoNet: the demonstration DeepSurv CNN. A small convolutional backbone over the preprocessed
  radiograph tensor [B, 1, H, W], global average pooling, the pooled features concatenated with the
  covariate vector [B, K], a small MLP, and ONE linear output: the log hazard ratio g(x), [B, 1].
  Its shape is fully described by a JSON-able `architecture` dict (stored in the model card's
  training.recipe.architecture), so torch_bench.py can rebuild it from the card + a weights file.
- ResNet18: a compact ResNet-18 (BasicBlock, [2, 2, 2, 2]), 1 input channel, 1 output, used only to
  benchmark a larger backbone (the ONNX export is untrained).
"""
from __future__ import annotations

import torch
from torch import nn

DEFAULT_ARCHITECTURE = {
    "kind": "demo-cnn",
    "stem": {"channels": 16, "kernel": 5, "stride": 2},
    # Each stage: conv3x3 stride 2 -> BN -> ReLU -> conv3x3 stride 1 -> BN -> ReLU.
    "stages": [24, 48, 64, 128],
    "pool": "global-average",
    "head": {"hidden": 32, "dropout": 0.2},
}


def conv_bn_relu(cin: int, cout: int, kernel: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class DemoNet(nn.Module):
    """DeepSurv CNN: image backbone + covariates -> log hazard ratio (one linear unit)."""

    def __init__(self, n_covariates: int, architecture: dict | None = None):
        super().__init__()
        arch = architecture or DEFAULT_ARCHITECTURE
        if arch.get("kind") != "demo-cnn":
            raise ValueError(f"unknown architecture kind {arch.get('kind')!r}")
        self.n_covariates = int(n_covariates)
        stem = arch["stem"]
        layers: list[nn.Module] = [conv_bn_relu(1, stem["channels"], stem["kernel"], stem["stride"])]
        cin = stem["channels"]
        for cout in arch["stages"]:
            layers.append(conv_bn_relu(cin, cout, 3, 2))
            layers.append(conv_bn_relu(cout, cout, 3, 1))
            cin = cout
        self.backbone = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        head = arch["head"]
        self.head = nn.Sequential(
            nn.Dropout(head["dropout"]),
            nn.Linear(cin + self.n_covariates, head["hidden"]),
            nn.ReLU(inplace=True),
            nn.Linear(head["hidden"], 1),
        )

    def forward(self, image: torch.Tensor, covariates: torch.Tensor | None = None) -> torch.Tensor:
        features = torch.flatten(self.pool(self.backbone(image)), 1)
        if self.n_covariates > 0:
            if covariates is None:
                raise ValueError("this model needs a covariates input")
            features = torch.cat([features, covariates], dim=1)
        return self.head(features)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.down is None else self.down(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """ResNet-18 (BasicBlock [2, 2, 2, 2], widths 64-512), 1 input channel, 1 output."""

    def __init__(self, in_channels: int = 1, outputs: int = 1):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        blocks: list[nn.Module] = []
        cin = 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            blocks.append(BasicBlock(cin, cout, stride))
            blocks.append(BasicBlock(cout, cout, 1))
            cin = cout
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, outputs)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(image))), 1))


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def multiply_accumulates(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Multiply-accumulates of the convolutions and linear layers in one forward pass over `inputs`
    (the arithmetic that bounds inference speed; BatchNorm, activations and pooling are not counted)."""
    total = 0

    def count(module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return total


def demo_from_card(card: dict) -> DemoNet:
    """Rebuilds the (untrained) DemoNet a model card describes; load weights separately."""
    arch = card["training"]["recipe"]["architecture"]
    cov = card["inputs"]["covariates"]
    return DemoNet(0 if cov is None else len(cov["features"]), arch)
