"""Reference architectures as small PyTorch modules, seeded, with non-trivial batch-norm statistics.

Each architecture is a factory taking ``Variant`` switches, so an injected violation (an activation
swapped, a residual branch dropped, a norm removed, fewer heads, another rotary base) is the same
module with one thing changed and the same weights wherever the shapes allow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Variant:
    """Switches an injected violation turns (all off: the reference)."""

    activation: str | None = None  # replace the architecture's main activation in one block
    drop_residual: bool = False  # one residual/skip branch removed
    drop_norm: bool = False  # one normalisation layer removed
    heads: int | None = None  # attention heads (weights unchanged)
    rope_theta: float | None = None  # rotary base
    seed: int = 0  # another seed: every weight re-drawn from the same initialiser
    # the MLPerf families' violations (tests/realtools/families.py)
    skip_layer: bool = False  # one block/layer replaced by identity, the others as they are
    early_exit: bool = False  # the model returns after fewer layers than the reference, same weights
    experts_per_token: int | None = None  # mixture-of-experts routing: experts each token is sent to
    epsilon: float | None = None  # one norm layer's epsilon
    pruned_head: bool = False  # structured pruning: one attention head's projections zeroed in one layer
    table_rows: int | None = None  # one embedding table cut to this many rows (indices clipped, or hashed)
    hashed: bool = False  # with table_rows: indices taken modulo the rows instead of clipped


@dataclass(frozen=True)
class Architecture:
    """How to build, feed and describe one reference architecture."""

    name: str
    family: str  # "cnn", "transformer", "recurrent", "recsys" or "gnn"
    build: Callable[[Variant], Any]  # -> torch.nn.Module in eval mode
    inputs: Callable[[np.random.Generator, int], dict[str, np.ndarray]]  # (rng, samples) -> arrays
    violations: tuple[str, ...] = ()


def _torch():
    import torch

    return torch


def _seeded(seed: int) -> None:
    torch = _torch()
    torch.manual_seed(seed)
    np.random.seed(seed)


def finished(module):
    """The module in eval mode with non-trivial norm parameters and statistics, as after training.

    Each norm layer is seeded by its qualified name, so a variant that replaces one norm with an
    Identity leaves every other layer's values as they are in the reference.
    """
    import zlib

    torch = _torch()
    nn = torch.nn
    kinds = (
        nn.modules.batchnorm._BatchNorm | nn.modules.instancenorm._InstanceNorm | nn.GroupNorm | nn.LayerNorm
    )
    for name, layer in module.named_modules():
        # RMSNorms of transformers, and torchvision-style FrozenBatchNorm2d (statistics held as buffers)
        norm = isinstance(layer, kinds) or type(layer).__name__.endswith(("RMSNorm", "FrozenBatchNorm2d"))
        weight = getattr(layer, "weight", None)
        if not norm or weight is None:
            continue
        generator = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        count = weight.shape[0]
        with torch.no_grad():
            weight.copy_(1.0 + 0.1 * torch.randn(count, generator=generator))
            if getattr(layer, "bias", None) is not None:
                layer.bias.copy_(0.1 * torch.randn(count, generator=generator))
            if getattr(layer, "running_mean", None) is not None:  # batch norms; instance norms keep none
                layer.running_mean.copy_(0.1 * torch.randn(count, generator=generator))
                layer.running_var.copy_(0.5 + torch.rand(count, generator=generator))
    return module.eval()


def _activation(name: str):
    nn = _torch().nn
    return {
        "relu": nn.ReLU,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "hardswish": nn.Hardswish,
    }[name]()


def _images(channels: int = 3, size: int = 32):
    def make(rng: np.random.Generator, samples: int) -> dict[str, np.ndarray]:
        return {"image": rng.standard_normal((samples, channels, size, size)).astype(np.float32)}

    return make


def _tokens(vocab: int, seq: int, names: tuple[str, ...]):
    def make(rng: np.random.Generator, samples: int) -> dict[str, np.ndarray]:
        found = {"input_ids": rng.integers(0, vocab, (samples, seq)).astype(np.int64)}
        if "attention_mask" in names:
            found["attention_mask"] = np.ones((samples, seq), dtype=np.int64)
        if "token_type_ids" in names:
            found["token_type_ids"] = np.zeros((samples, seq), dtype=np.int64)
        return found

    return make


# --- convolutional networks -------------------------------------------------------------------------
def resnet(variant: Variant):
    """A ResNet-style network: stem, basic blocks with projection shortcuts, pooling, dropout, classifier."""
    torch = _torch()
    nn = torch.nn
    _seeded(0 + 1000 * variant.seed)

    def conv_bn(c_in, c_out, k, stride=1, norm=True):
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
            nn.BatchNorm2d(c_out) if norm else nn.Identity(),
        )

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride, act, residual=True, norm=True):
            super().__init__()
            self.conv1 = conv_bn(c_in, c_out, 3, stride)
            self.act1 = act
            self.conv2 = conv_bn(c_out, c_out, 3, norm=norm)
            self.short = conv_bn(c_in, c_out, 1, stride) if (stride != 1 or c_in != c_out) else nn.Identity()
            self.residual = residual
            self.act2 = nn.ReLU()

        def forward(self, x):
            y = self.conv2(self.act1(self.conv1(x)))
            return self.act2(y + self.short(x) if self.residual else y)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(conv_bn(3, 16, 3), nn.ReLU(), nn.MaxPool2d(2))
            act = _activation(variant.activation) if variant.activation else nn.ReLU()
            self.blocks = nn.Sequential(
                Block(16, 16, 1, nn.ReLU(), residual=not variant.drop_residual),
                Block(16, 32, 2, act, norm=not variant.drop_norm),
                Block(32, 32, 1, nn.ReLU()),
            )
            self.head = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, 10)
            )

        def forward(self, image):
            return self.head(self.blocks(self.stem(image)))

    return finished(Net())


def densenet(variant: Variant):
    """A DenseNet-style network: pre-activation BN-ReLU-Conv layers whose outputs are concatenated."""
    torch = _torch()
    nn = torch.nn
    _seeded(1 + 1000 * variant.seed)
    growth = 8

    class Layer(nn.Module):
        def __init__(self, c_in, act, norm=True, dense=True):
            super().__init__()
            self.dense = dense
            self.body = nn.Sequential(
                nn.BatchNorm2d(c_in) if norm else nn.Identity(),
                act,
                nn.Conv2d(c_in, 4 * growth, 1, bias=False),
                nn.BatchNorm2d(4 * growth),
                nn.ReLU(),
                nn.Conv2d(4 * growth, growth, 3, 1, 1, bias=False),
            )

        def forward(self, x):
            return torch.cat([x if self.dense else torch.zeros_like(x), self.body(x)], 1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            act = _activation(variant.activation) if variant.activation else nn.ReLU()
            layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False)]
            channels = 16
            for index in range(3):
                special = index == 1
                layers.append(
                    Layer(
                        channels,
                        act if special else nn.ReLU(),
                        norm=not (variant.drop_norm and special),
                        dense=not (variant.drop_residual and special),
                    )
                )
                channels += growth
            layers += [
                nn.BatchNorm2d(channels),
                nn.ReLU(),
                nn.Conv2d(channels, 24, 1, bias=False),
                nn.AvgPool2d(2),
            ]
            channels = 24
            for _ in range(2):
                layers.append(Layer(channels, nn.ReLU()))
                channels += growth
            self.features = nn.Sequential(*layers)
            self.head = nn.Sequential(
                nn.BatchNorm2d(channels),
                nn.ReLU(),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
                nn.Linear(channels, 10),
            )

        def forward(self, image):
            return self.head(self.features(image))

    return finished(Net())


def inception(variant: Variant):
    """An Inception-style network: parallel 1x1, 3x3, 5x5 and pooling branches joined by Concat."""
    torch = _torch()
    nn = torch.nn
    _seeded(2 + 1000 * variant.seed)

    def cbr(c_in, c_out, k, act=None, norm=True):
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, k, 1, k // 2, bias=False),
            nn.BatchNorm2d(c_out) if norm else nn.Identity(),
            act or nn.ReLU(),
        )

    class Module(nn.Module):
        def __init__(self, c_in, width, act=None, drop_branch=False, norm=True):
            super().__init__()
            self.b1 = cbr(c_in, width, 1)
            self.b3 = nn.Sequential(cbr(c_in, width, 1), cbr(width, width, 3, act, norm))
            self.b5 = nn.Sequential(cbr(c_in, width, 1), cbr(width, width, 5))
            self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), cbr(c_in, width, 1))
            self.drop_branch = drop_branch

        def forward(self, x):
            b5 = torch.zeros_like(self.b1(x)) if self.drop_branch else self.b5(x)
            return torch.cat([self.b1(x), self.b3(x), b5, self.bp(x)], 1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            act = _activation(variant.activation) if variant.activation else None
            self.stem = cbr(3, 16, 3)
            self.m1 = Module(16, 8, act, norm=not variant.drop_norm)
            self.m2 = Module(32, 8, drop_branch=variant.drop_residual)
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))

        def forward(self, image):
            return self.head(self.m2(self.m1(self.stem(image))))

    return finished(Net())


def mobilenet(variant: Variant):
    """A MobileNetV3-style network: inverted residuals, depthwise convs, squeeze-excite, SiLU/Hardswish."""
    torch = _torch()
    nn = torch.nn
    _seeded(3 + 1000 * variant.seed)

    class SqueezeExcite(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.reduce = nn.Conv2d(c, max(c // 4, 8), 1)
            self.act = nn.SiLU()
            self.expand = nn.Conv2d(max(c // 4, 8), c, 1)
            self.gate = nn.Hardsigmoid()

        def forward(self, x):
            return x * self.gate(self.expand(self.act(self.reduce(self.pool(x)))))

    class InvertedResidual(nn.Module):
        def __init__(self, c_in, c_out, stride, act, se=True, residual=True, norm=True):
            super().__init__()
            hidden = c_in * 4
            self.body = nn.Sequential(
                nn.Conv2d(c_in, hidden, 1, bias=False),
                nn.BatchNorm2d(hidden),
                act,
                nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                nn.BatchNorm2d(hidden) if norm else nn.Identity(),
                nn.SiLU(),
                *([SqueezeExcite(hidden)] if se else []),
                nn.Conv2d(hidden, c_out, 1, bias=False),
                nn.BatchNorm2d(c_out),
            )
            self.residual = residual and stride == 1 and c_in == c_out

        def forward(self, x):
            y = self.body(x)
            return x + y if self.residual else y

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            act = _activation(variant.activation) if variant.activation else nn.Hardswish()
            self.stem = nn.Sequential(
                nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish()
            )
            self.blocks = nn.Sequential(
                InvertedResidual(16, 16, 1, nn.Hardswish(), residual=not variant.drop_residual),
                InvertedResidual(16, 24, 2, act, norm=not variant.drop_norm),
                InvertedResidual(24, 24, 1, nn.Hardswish()),
            )
            self.head = nn.Sequential(
                nn.Conv2d(24, 64, 1, bias=False),
                nn.BatchNorm2d(64),
                nn.Hardswish(),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
                nn.Linear(64, 10),
            )

        def forward(self, image):
            return self.head(self.blocks(self.stem(image)))

    return finished(Net())


def unet(variant: Variant):
    """A UNet: two down stages, a bottleneck, transposed-conv upsampling and skip concatenations."""
    torch = _torch()
    nn = torch.nn
    _seeded(4 + 1000 * variant.seed)

    def double(c_in, c_out, act=None, norm=True):
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c_out),
            act or nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c_out) if norm else nn.Identity(),
            nn.ReLU(),
        )

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            act = _activation(variant.activation) if variant.activation else None
            self.enc1, self.enc2 = double(3, 8), double(8, 16, act)
            self.pool = nn.MaxPool2d(2)
            self.mid = double(16, 32, norm=not variant.drop_norm)
            self.up2, self.dec2 = nn.ConvTranspose2d(32, 16, 2, 2), double(32, 16)
            self.up1 = nn.Upsample(scale_factor=2, mode="nearest")
            self.reduce1, self.dec1 = nn.Conv2d(16, 8, 1), double(16, 8)
            self.out = nn.Conv2d(8, 2, 1)
            self.skip = not variant.drop_residual

        def forward(self, image):
            e1 = self.enc1(image)
            e2 = self.enc2(self.pool(e1))
            m = self.mid(self.pool(e2))
            d2 = self.dec2(torch.cat([self.up2(m), e2 if self.skip else torch.zeros_like(e2)], 1))
            d1 = self.dec1(torch.cat([self.reduce1(self.up1(d2)), e1], 1))
            return self.out(d1)

    return finished(Net())


# --- transformers -------------------------------------------------------------------------------------
def vit(variant: Variant):
    """A Vision Transformer: patch embedding conv, class token, position embedding, pre-LN encoder blocks."""
    torch = _torch()
    nn = torch.nn
    _seeded(5 + 1000 * variant.seed)
    width, heads_default, depth = 64, 4, 2
    heads = variant.heads or heads_default

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)

        def forward(self, x):
            batch, tokens, _ = x.shape
            qkv = self.qkv(x).reshape(batch, tokens, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(-2, -1)) * (width // heads_default) ** -0.5
            out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, tokens, width)
            return self.proj(out)

    class Block(nn.Module):
        def __init__(self, act, norm=True, residual=True):
            super().__init__()
            self.norm1 = nn.LayerNorm(width) if norm else nn.Identity()
            self.attn = Attention()
            self.norm2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, 2 * width), act, nn.Linear(2 * width, width))
            self.residual = residual

        def forward(self, x):
            x = x + self.attn(self.norm1(x)) if self.residual else self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch = nn.Conv2d(3, width, 4, 4)
            self.cls = nn.Parameter(0.02 * torch.randn(1, 1, width))
            self.pos = nn.Parameter(0.02 * torch.randn(1, 65, width))
            act = _activation(variant.activation) if variant.activation else nn.GELU()
            self.blocks = nn.Sequential(
                Block(act, norm=not variant.drop_norm, residual=not variant.drop_residual),
                *[Block(nn.GELU()) for _ in range(depth - 1)],
            )
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, 10)

        def forward(self, image):
            x = self.patch(image).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
            return self.head(self.norm(self.blocks(x))[:, 0])

    return finished(Net())


def bert(variant: Variant):
    """A BERT encoder (transformers' BertModel, small config, random weights, eager attention)."""
    torch = _torch()
    from transformers import BertConfig, BertModel

    _seeded(6 + 1000 * variant.seed)
    config = BertConfig(
        vocab_size=100,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=variant.heads or 4,
        intermediate_size=128,
        max_position_embeddings=32,
        hidden_act=variant.activation or "gelu",
        attn_implementation="eager",
    )
    model = BertModel(config, add_pooling_layer=False).eval()
    if variant.heads or variant.activation:  # the reference's weights, one thing changed
        _seeded(6 + 1000 * variant.seed)
        reference = BertModel(
            BertConfig(**{**config.to_dict(), "num_attention_heads": 4, "hidden_act": "gelu"}),
            add_pooling_layer=False,
        )
        model.load_state_dict(reference.state_dict())
    if variant.drop_norm:
        model.encoder.layer[1].output.LayerNorm = torch.nn.Identity()
    if variant.drop_residual:
        _drop_bert_residual(model.encoder.layer[0].attention.output)

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return finished(Encoder())


def _drop_bert_residual(output) -> None:
    """BertSelfOutput without the residual connection: LayerNorm(dropout(dense(h)))."""

    def forward(hidden_states, input_tensor):
        return output.LayerNorm(output.dropout(output.dense(hidden_states)))

    output.forward = forward


def llama(variant: Variant):
    """A Llama-style decoder (transformers' LlamaForCausalLM, small config, grouped-query attention)."""
    torch = _torch()
    from transformers import LlamaConfig, LlamaForCausalLM

    def config(**changes):
        base = dict(
            vocab_size=128,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=64,
            hidden_act="silu",
            attn_implementation="eager",
        )
        base.update(changes)
        return LlamaConfig(**base)

    changes: dict[str, Any] = {}
    if variant.activation:
        changes["hidden_act"] = variant.activation
    if variant.rope_theta:
        changes["rope_parameters"] = {"rope_type": "default", "rope_theta": variant.rope_theta}
    _seeded(7 + 1000 * variant.seed)
    reference = LlamaForCausalLM(config()).eval()
    if variant.heads:
        changes["num_attention_heads"] = variant.heads
        changes["num_key_value_heads"] = max(variant.heads // 2, 1)  # wider heads: same weight shapes
    model = LlamaForCausalLM(config(**changes)).eval() if changes else reference
    if changes:
        model.load_state_dict(reference.state_dict())
    if variant.drop_norm:
        model.model.layers[1].post_attention_layernorm = torch.nn.Identity()
    if variant.drop_residual:
        _drop_llama_residual(model.model.layers[0])

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    return finished(Decoder())


def _drop_llama_residual(layer) -> None:
    """The decoder layer without its MLP residual: the MLP's output replaces the residual stream."""

    def forward(hidden_states, attention_mask=None, position_ids=None, position_embeddings=None, **kwargs):
        attended, _ = layer.self_attn(
            hidden_states=layer.input_layernorm(hidden_states),
            attention_mask=attention_mask,
            position_ids=position_ids,
            position_embeddings=position_embeddings,
            **kwargs,
        )
        return layer.mlp(layer.post_attention_layernorm(hidden_states + attended))

    layer.forward = forward


CNN_VIOLATIONS = ("swapped_activation", "dropped_residual", "dropped_norm", "pruned", "modified_weight")
TRANSFORMER_VIOLATIONS = (
    "swapped_activation",
    "dropped_residual",
    "dropped_norm",
    "pruned",
    "modified_weight",
)

ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture("resnet", "cnn", resnet, _images(), CNN_VIOLATIONS),
        Architecture("densenet", "cnn", densenet, _images(), CNN_VIOLATIONS),
        Architecture("inception", "cnn", inception, _images(), CNN_VIOLATIONS),
        Architecture("mobilenet", "cnn", mobilenet, _images(), CNN_VIOLATIONS),
        Architecture("unet", "cnn", unet, _images(), CNN_VIOLATIONS),
        Architecture("vit", "transformer", vit, _images(), (*TRANSFORMER_VIOLATIONS, "fewer_heads")),
        Architecture(
            "bert",
            "transformer",
            bert,
            _tokens(100, 16, ("attention_mask", "token_type_ids")),
            (*TRANSFORMER_VIOLATIONS, "fewer_heads"),
        ),
        Architecture(
            "llama",
            "transformer",
            llama,
            _tokens(128, 16, ("attention_mask",)),
            (*TRANSFORMER_VIOLATIONS, "fewer_heads", "rotary_base"),
        ),
    )
}
