"""MLPerf's model families as small reference architectures, kept apart from the main corpus.

The inference and training benchmarks audit detectors, 3D segmentation, recommenders, speech, large
language and mixture-of-experts decoders, diffusion UNets and graph networks: each family here is a
miniature of one, seeded with random weights (nothing downloaded), in eval mode, its norms finished as
after training. Like ``ARCHITECTURES`` each is a factory of ``Variant`` switches, so a violation is the
same module with one thing changed and the reference's weights wherever the shapes allow.

torchvision is not used: the wheel the registry serves for torch 2.13 (0.28.0+cu130) is built against
the CUDA torch, so with the project's CPU torch its C++ ops do not load, its import fails, and so does
every transformers model (transformers imports torchvision when it is installed). FrozenBatchNorm2d, the
feature pyramid and EfficientNet are written here after torchvision's code, with its module names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realtools.architectures import (
    ARCHITECTURES,
    Architecture,
    Variant,
    _activation,
    _images,
    _seeded,
    _tokens,
    _torch,
    finished,
)


def _passed(returns_tuple: bool = False):
    """A layer replaced by identity: its first input goes on as its output (in the caller's form)."""
    torch = _torch()

    class Passed(torch.nn.Module):
        def forward(self, hidden_states, *args, **kwargs):
            return (hidden_states, None) if returns_tuple else hidden_states

    return Passed()


def _prune_head(query, key, value, out, head: int, width: int) -> None:
    """Structured head pruning: one head's query/key/value rows and output-projection columns zeroed.

    ``key``/``value`` may be None where the head shares them with others (grouped-query attention):
    then the query rows and output columns alone remove the head.
    """
    torch = _torch()
    rows = slice(head * width, (head + 1) * width)
    with torch.no_grad():
        for projection in (query, key, value):
            if projection is None:
                continue
            projection.weight[rows] = 0.0
            if projection.bias is not None:
                projection.bias[rows] = 0.0
        out.weight[:, rows] = 0.0


def _loaded(model, reference):
    """``model`` holding the reference's weights (a violation that changed a config, not the weights)."""
    model.load_state_dict(reference.state_dict())
    return model.eval()


# --- convolutional networks -------------------------------------------------------------------------
def _frozen_batch_norm():
    """torchvision.ops.misc.FrozenBatchNorm2d: batch norm with statistics and affine held as buffers."""
    torch = _torch()

    class FrozenBatchNorm2d(torch.nn.Module):
        def __init__(self, channels: int, eps: float = 1e-5):
            super().__init__()
            self.eps = eps
            self.register_buffer("weight", torch.ones(channels))
            self.register_buffer("bias", torch.zeros(channels))
            self.register_buffer("running_mean", torch.zeros(channels))
            self.register_buffer("running_var", torch.ones(channels))

        def forward(self, x):  # as torchvision: folded into a scale and a shift, exported as Mul and Add
            w = self.weight.reshape(1, -1, 1, 1)
            b = self.bias.reshape(1, -1, 1, 1)
            rv = self.running_var.reshape(1, -1, 1, 1)
            rm = self.running_mean.reshape(1, -1, 1, 1)
            scale = w * (rv + self.eps).rsqrt()
            return x * scale + (b - rm * scale)

    return FrozenBatchNorm2d


def _feature_pyramid(in_channels: list[int], width: int):
    """torchvision.ops.FeaturePyramidNetwork (no extra block): lateral 1x1, top-down nearest, 3x3 out."""
    torch = _torch()
    nn = torch.nn

    class FeaturePyramidNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner_blocks = nn.ModuleList(nn.Sequential(nn.Conv2d(c, width, 1)) for c in in_channels)
            self.layer_blocks = nn.ModuleList(
                nn.Sequential(nn.Conv2d(width, width, 3, padding=1)) for _ in in_channels
            )
            for layer in self.modules():  # torchvision's initialisation
                if isinstance(layer, nn.Conv2d):
                    nn.init.kaiming_uniform_(layer.weight, a=1)
                    nn.init.constant_(layer.bias, 0)

        def forward(self, features: list):
            last = self.inner_blocks[-1](features[-1])
            results = [self.layer_blocks[-1](last)]
            for index in range(len(features) - 2, -1, -1):
                lateral = self.inner_blocks[index](features[index])
                top_down = nn.functional.interpolate(last, size=lateral.shape[-2:], mode="nearest")
                last = lateral + top_down
                results.insert(0, self.layer_blocks[index](last))
            return results

    return FeaturePyramidNetwork()


def retinanet(variant: Variant):
    """A RetinaNet: ResNet backbone with frozen batch norms, a 3-level feature pyramid, shared heads.

    The heads' outputs are decoded by no anchor or NMS step: the logits and boxes of every level are
    concatenated, then joined along the last axis, as one output (N, anchors, classes + 4).
    """
    torch = _torch()
    nn = torch.nn
    _seeded(20 + 1000 * variant.seed)
    frozen = _frozen_batch_norm()
    anchors, classes = 3, 4

    def conv_bn(c_in, c_out, k, stride=1, norm=True):
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), frozen(c_out) if norm else nn.Identity()
        )

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride=1, act=None, residual=True, norm=True):
            super().__init__()
            self.conv1 = conv_bn(c_in, c_out, 3, stride)
            self.act1 = act or nn.ReLU()
            self.conv2 = conv_bn(c_out, c_out, 3, norm=norm)
            self.short = conv_bn(c_in, c_out, 1, stride) if (stride != 1 or c_in != c_out) else nn.Identity()
            self.residual = residual
            self.act2 = nn.ReLU()

        def forward(self, x):
            y = self.conv2(self.act1(self.conv1(x)))
            return self.act2(y + self.short(x) if self.residual else y)

    def tower(out):
        return nn.Sequential(
            nn.Conv2d(32, 32, 3, 1, 1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, 1, 1),
            nn.ReLU(),
            nn.Conv2d(32, out, 3, 1, 1),
        )

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            act = _activation(variant.activation) if variant.activation else None
            self.stem = nn.Sequential(conv_bn(3, 16, 3, 2), nn.ReLU(), nn.MaxPool2d(2))
            self.layer1 = nn.Sequential(Block(16, 16, residual=not variant.drop_residual))
            self.layer2 = nn.Sequential(
                Block(16, 32, 2, act=act),
                Block(32, 32) if not variant.skip_layer else nn.Identity(),
            )
            self.layer3 = nn.Sequential(Block(32, 64, 2, norm=not variant.drop_norm))
            self.fpn = _feature_pyramid([16, 32, 64], 32)
            self.classification = tower(anchors * classes)
            self.regression = tower(anchors * 4)

        def forward(self, image):
            c1 = self.layer1(self.stem(image))
            c2 = self.layer2(c1)
            c3 = self.layer3(c2)
            logits, boxes = [], []
            for level in self.fpn([c1, c2, c3]):  # the heads are shared over the levels
                logits.append(self._flat(self.classification(level), classes))
                boxes.append(self._flat(self.regression(level), 4))
            return torch.cat([torch.cat(logits, 1), torch.cat(boxes, 1)], 2)

        @staticmethod
        def _flat(out, size):  # (N, A*K, H, W) -> (N, H*W*A, K), torchvision's layout
            batch, _, height, width = out.shape
            return (
                out.view(batch, anchors, size, height, width).permute(0, 3, 4, 1, 2).reshape(batch, -1, size)
            )

    return finished(Net())


def unet3d(variant: Variant):
    """A 3D UNet (MLPerf's KiTS19 model in miniature): Conv3d, InstanceNorm3d, LeakyReLU, two levels."""
    torch = _torch()
    nn = torch.nn
    _seeded(21 + 1000 * variant.seed)

    def stage(c_in, c_out, act=None, norm=True):
        return nn.Sequential(
            nn.Conv3d(c_in, c_out, 3, 1, 1, bias=False),
            nn.InstanceNorm3d(c_out, affine=True) if norm else nn.Identity(),
            act or nn.LeakyReLU(0.01),
        )

    def double(c_in, c_out, act=None, norm=True, skip=False):
        return nn.Sequential(stage(c_in, c_out, act, norm), nn.Identity() if skip else stage(c_out, c_out))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            act = _activation(variant.activation) if variant.activation else None
            self.enc1 = double(1, 8, act)
            self.pool = nn.MaxPool3d(2)
            self.enc2 = double(8, 16, norm=not variant.drop_norm, skip=variant.skip_layer)
            self.up = nn.ConvTranspose3d(16, 8, 2, 2)
            self.dec1 = double(16, 8)
            self.out = nn.Conv3d(8, 3, 1)
            self.skip = not variant.drop_residual

        def forward(self, volume):
            e1 = self.enc1(volume)
            e2 = self.enc2(self.pool(e1))
            return self.out(self.dec1(torch.cat([self.up(e2), e1 if self.skip else torch.zeros_like(e1)], 1)))

    return finished(Net())


def _efficientnet_stages(width: float, depth: float) -> list[tuple[int, int, int, int, int, int]]:
    """EfficientNet-B0's stages (expand ratio, kernel, stride, in, out, layers), scaled like torchvision."""
    import math

    def divisible(value: float) -> int:  # torchvision's _make_divisible(value, 8)
        found = max(8, int(value + 4) // 8 * 8)
        return found + 8 if found < 0.9 * value else found

    b0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3)]
    b0 += [(6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
    return [
        (e, k, s, divisible(i * width), divisible(o * width), math.ceil(n * depth)) for e, k, s, i, o, n in b0
    ]


def _calibrated(module, inputs, seed: int):
    """The module's batch-norm statistics measured on random inputs, as training leaves them.

    Drawn statistics (``finished``) do not match the activations; through a deep, narrow network on small
    images the mismatch shrinks every block's signal, until the output no longer depends on the input.
    """
    torch = _torch()
    norms = [layer for layer in module.modules() if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm)]
    for layer in norms:
        layer.reset_running_stats()
        layer.momentum = None  # the plain average over the batches
    module.train()
    with torch.no_grad():
        for batch in range(4):
            sample = inputs(np.random.default_rng(seed + batch), 16)
            module(*(torch.from_numpy(value) for value in sample.values()))
    for layer in norms:
        layer.momentum = 0.1
    return module.eval()


def efficientnet(variant: Variant):
    """An EfficientNet-B0 at width 0.25, depth 0.5: torchvision's MBConv (expand, depthwise, SE, project).

    Written after torchvision.models.efficientnet (same module names: features.<stage>.<block>.block),
    whose import fails here (module docstring). Depth 0.5, not 0.25, so that stages hold residual blocks.
    Its batch-norm statistics are measured (``_calibrated``) on the reference; a variant takes them from it.
    """
    reference = _calibrated(_efficientnet(Variant(seed=variant.seed)), _images(), 22)
    if variant == Variant(seed=variant.seed):
        return reference
    model = _efficientnet(variant)
    model.load_state_dict(reference.state_dict(), strict=False)  # what a variant removed is left out
    return model.eval()


def _efficientnet(variant: Variant):
    """The EfficientNet module with drawn batch-norm statistics (``finished``), before calibration."""
    from functools import partial

    torch = _torch()
    nn = torch.nn
    _seeded(22 + 1000 * variant.seed)
    norm_layer = partial(nn.BatchNorm2d, eps=1e-3)

    def conv_norm_act(c_in, c_out, k, stride=1, groups=1, act=True, norm=True):  # Conv2dNormActivation
        layers = [nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False)]
        layers.append(norm_layer(c_out) if norm else nn.Identity())
        if act:
            layers.append(act if isinstance(act, nn.Module) else nn.SiLU())
        return nn.Sequential(*layers)

    class SqueezeExcitation(nn.Module):
        def __init__(self, channels, squeeze):
            super().__init__()
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc1 = nn.Conv2d(channels, squeeze, 1)
            self.fc2 = nn.Conv2d(squeeze, channels, 1)
            self.activation = nn.SiLU()
            self.scale_activation = nn.Sigmoid()

        def forward(self, x):
            return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))

    class MBConv(nn.Module):
        def __init__(self, expand, k, stride, c_in, c_out, act=None, residual=True, norm=True):
            super().__init__()
            self.use_res_connect = residual and stride == 1 and c_in == c_out
            hidden = c_in * expand
            layers = [conv_norm_act(c_in, hidden, 1)] if hidden != c_in else []
            layers += [
                conv_norm_act(hidden, hidden, k, stride, groups=hidden, act=act or True, norm=norm),
                SqueezeExcitation(hidden, max(1, c_in // 4)),
                conv_norm_act(hidden, c_out, 1, act=False),
            ]
            self.block = nn.Sequential(*layers)

        def forward(self, x):  # stochastic depth is the identity in eval mode
            y = self.block(x)
            return y + x if self.use_res_connect else y

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            stages = _efficientnet_stages(0.25, 0.5)
            act = _activation(variant.activation) if variant.activation else None
            features = [conv_norm_act(3, stages[0][3], 3, 2)]
            for number, (expand, k, stride, c_in, c_out, count) in enumerate(stages, start=1):
                blocks = []
                for index in range(count):
                    where = (number, index)
                    if variant.skip_layer and where == (5, 1):
                        blocks.append(nn.Identity())
                        continue
                    blocks.append(
                        MBConv(
                            expand,
                            k,
                            stride if index == 0 else 1,
                            c_in if index == 0 else c_out,
                            c_out,
                            act=act if where == (2, 0) else None,
                            residual=not (variant.drop_residual and where == (4, 1)),
                            norm=not (variant.drop_norm and where == (3, 0)),
                        )
                    )
                features.append(nn.Sequential(*blocks))
            last = stages[-1][4]
            features.append(conv_norm_act(last, 4 * last, 1))
            self.features = nn.Sequential(*features)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(4 * last, 10))
            for layer in self.modules():  # torchvision's initialisation
                if isinstance(layer, nn.Conv2d):
                    nn.init.kaiming_normal_(layer.weight, mode="fan_out")
                    if layer.bias is not None:
                        nn.init.zeros_(layer.bias)
                elif isinstance(layer, nn.Linear):
                    bound = 1.0 / layer.out_features**0.5
                    nn.init.uniform_(layer.weight, -bound, bound)
                    nn.init.zeros_(layer.bias)

        def forward(self, image):
            return self.classifier(torch.flatten(self.avgpool(self.features(image)), 1))

    return finished(Net())


def convnext(variant: Variant):
    """A ConvNeXt (transformers' ConvNextModel, two stages of one block), pooled output.

    Layer scale starts at 1e-6 in transformers, which would make every block nearly the identity (and
    its violations invisible): it is drawn around 0.5, as after training, seeded like the norms.
    """
    torch = _torch()
    from transformers import ConvNextConfig, ConvNextModel

    _seeded(23 + 1000 * variant.seed)
    config = ConvNextConfig(num_channels=3, num_stages=2, hidden_sizes=[16, 32], depths=[1, 1], image_size=32)
    model = ConvNextModel(config).eval()
    generator = torch.Generator().manual_seed(23)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("layer_scale_parameter"):
                parameter.copy_(0.5 + 0.1 * torch.randn(parameter.shape, generator=generator))
    stages = model.encoder.stages
    if variant.activation:
        stages[0].layers[0].act = _activation(variant.activation)
    if variant.drop_residual:
        _drop_convnext_residual(stages[1].layers[0])
    if variant.drop_norm:
        stages[1].layers[0].layernorm = torch.nn.Identity()
    if variant.skip_layer:
        stages[0].layers[0] = torch.nn.Identity()

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, image):
            return self.model(pixel_values=image).pooler_output

    return finished(Encoder())


def _drop_convnext_residual(layer) -> None:
    """The ConvNeXt block without its residual: the scaled branch replaces the input."""

    def forward(features):
        features = layer.layernorm(layer.dwconv(features).permute(0, 2, 3, 1))
        features = layer.layer_scale_parameter * layer.pwconv2(layer.act(layer.pwconv1(features)))
        return features.permute(0, 3, 1, 2)

    layer.forward = forward


def sdunet(variant: Variant):
    """A Stable Diffusion UNet (diffusers' UNet2DConditionModel, tiny config), timestep as (N,) floats.

    Timestep embedding, ResNet blocks with GroupNorm, cross-attention transformer blocks over the text
    states. Channels (16, 32): at (32, 64) the model is 3.4 MB.
    """
    torch = _torch()
    from diffusers import UNet2DConditionModel

    _seeded(24 + 1000 * variant.seed)
    model = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(16, 32),
        layers_per_block=1,
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=8,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    ).eval()
    if variant.activation:
        model.down_blocks[0].resnets[0].nonlinearity = _activation(variant.activation)
    if variant.drop_residual:
        _drop_resnet_residual(model.down_blocks[1].resnets[0])
    if variant.drop_norm:
        model.down_blocks[1].resnets[0].norm2 = torch.nn.Identity()
    if variant.skip_layer:
        model.mid_block.attentions[0] = _passed(returns_tuple=True)
    if variant.pruned_head:
        attention = model.down_blocks[0].attentions[0].transformer_blocks[0].attn1
        width = attention.inner_dim // attention.heads
        _prune_head(attention.to_q, attention.to_k, attention.to_v, attention.to_out[0], 1, width)

    class Denoiser(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, sample, timestep, encoder_hidden_states):
            return self.model(sample, timestep, encoder_hidden_states, return_dict=False)[0]

    return finished(Denoiser())


def _drop_resnet_residual(block) -> None:
    """diffusers' ResnetBlock2D (default time-embedding norm, no resampling) without its shortcut."""

    def forward(input_tensor, temb, *args, **kwargs):
        hidden = block.conv1(block.nonlinearity(block.norm1(input_tensor)))
        hidden = hidden + block.time_emb_proj(block.nonlinearity(temb))[:, :, None, None]
        hidden = block.conv2(block.dropout(block.nonlinearity(block.norm2(hidden))))
        return hidden / block.output_scale_factor

    block.forward = forward


def _sdunet_inputs(rng: np.random.Generator, samples: int) -> dict[str, np.ndarray]:
    return {
        "sample": rng.standard_normal((samples, 4, 8, 8)).astype(np.float32),
        "timestep": rng.uniform(0, 1000, (samples,)).astype(np.float32),
        "encoder_hidden_states": rng.standard_normal((samples, 4, 32)).astype(np.float32),
    }


def _volumes(rng: np.random.Generator, samples: int) -> dict[str, np.ndarray]:
    return {"volume": rng.standard_normal((samples, 1, 16, 16, 16)).astype(np.float32)}


# --- recommendation, speech, graphs -------------------------------------------------------------------
DLRM_ROWS = (200, 100, 50)
DLRM_BAG = 4


def dlrm(variant: Variant):
    """DLRM: bottom MLP on 13 dense features, three summed EmbeddingBags, dot interaction, top MLP.

    The interaction is the reference implementation's: pairwise products by bmm, the strict lower
    triangle gathered, joined to the bottom MLP's output. Bags have a fixed size (2-D indices).
    ``table_rows`` cuts table 0 to its first rows: indices clipped to them (rows pruned) or, ``hashed``,
    taken modulo their count (the hashing trick).
    """
    torch = _torch()
    nn = torch.nn
    _seeded(25 + 1000 * variant.seed)
    width = 16
    count = len(DLRM_ROWS) + 1
    rows, cols = torch.tril_indices(count, count, offset=-1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            act = _activation(variant.activation) if variant.activation else nn.ReLU()
            self.bottom = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, width), nn.ReLU())
            self.tables = nn.ModuleList(nn.EmbeddingBag(n, width, mode="sum") for n in DLRM_ROWS)
            pairs = count * (count - 1) // 2
            self.top = nn.Sequential(
                nn.Linear(width + pairs, 32), act, nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1)
            )
            self.register_buffer("li", rows, persistent=False)
            self.register_buffer("lj", cols, persistent=False)

        def forward(self, dense, sparse):
            x = self.bottom(dense)
            embedded = [
                table(self._indices(index, sparse[:, index])) for index, table in enumerate(self.tables)
            ]
            features = torch.stack([x, *embedded], 1)  # (N, tables + 1, width)
            products = torch.bmm(features, features.transpose(1, 2))
            interactions = products[:, self.li, self.lj]
            return torch.sigmoid(self.top(torch.cat([x, interactions], 1)))

        def _indices(self, index, indices):
            if index != 0 or variant.table_rows is None:
                return indices
            if variant.hashed:
                return torch.remainder(indices, variant.table_rows)
            return torch.clamp(indices, max=variant.table_rows - 1)

    net = Net()
    if variant.table_rows is not None:  # the reference's first rows
        table = nn.EmbeddingBag(variant.table_rows, width, mode="sum")
        with torch.no_grad():
            table.weight.copy_(net.tables[0].weight[: variant.table_rows])
        net.tables[0] = table
    return net.eval()


def _dlrm_inputs(rng: np.random.Generator, samples: int) -> dict[str, np.ndarray]:
    sparse = np.stack([rng.integers(0, n, (samples, DLRM_BAG)) for n in DLRM_ROWS], 1)
    return {
        "dense": rng.standard_normal((samples, 13)).astype(np.float32),
        "sparse": sparse.astype(np.int64),
    }


RNNT_VOCAB = 16


def rnnt(variant: Variant):
    """An RNN-T (MLPerf's speech model in miniature): LSTM encoder, prediction and joint networks.

    The prediction network embeds the labels into an LSTM; the joint network broadcast-adds both
    projections, tanh, to the vocabulary: (N, T, U, vocab).
    ``skip_layer`` leaves out the encoder's last LSTM layer (its first keeps the reference's weights).
    """
    torch = _torch()
    nn = torch.nn
    _seeded(26 + 1000 * variant.seed)
    hidden = 32

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(16, hidden, num_layers=2, batch_first=True)
            self.embedding = nn.Embedding(RNNT_VOCAB, 16)
            self.prediction = nn.LSTM(16, hidden, num_layers=1, batch_first=True)
            self.joint_encoder = nn.Linear(hidden, hidden)
            self.joint_prediction = nn.Linear(hidden, hidden)
            self.joint_act = _activation(variant.activation or "tanh")
            self.joint_out = nn.Linear(hidden, RNNT_VOCAB)

        def forward(self, features, labels):
            encoded, _ = self.encoder(features)
            predicted, _ = self.prediction(self.embedding(labels))
            joint = self.joint_encoder(encoded).unsqueeze(2) + self.joint_prediction(predicted).unsqueeze(1)
            return self.joint_out(self.joint_act(joint))

    net = Net()
    if variant.skip_layer:
        layer = {k: v for k, v in net.encoder.state_dict().items() if k.endswith("_l0")}
        net.encoder = nn.LSTM(16, hidden, num_layers=1, batch_first=True)
        net.encoder.load_state_dict(layer)
    return net.eval()


def _rnnt_inputs(rng: np.random.Generator, samples: int) -> dict[str, np.ndarray]:
    return {
        "features": rng.standard_normal((samples, 12, 16)).astype(np.float32),
        "labels": rng.integers(0, RNNT_VOCAB, (samples, 4)).astype(np.int64),
    }


GRAPH_NODES, RELATIONS = 16, 2


def rgat(variant: Variant):
    """An R-GAT (MLPerf's IGBH model in miniature), by hand: no torch_geometric.

    Per relation a graph-attention head over a dense adjacency (masked softmax), relations summed with
    a root weight; two layers, ELU, a residual connection around the first.
    """
    torch = _torch()
    nn = torch.nn
    _seeded(27 + 1000 * variant.seed)

    class Relation(nn.Module):
        def __init__(self, c_in, c_out):
            super().__init__()
            self.linear = nn.Linear(c_in, c_out, bias=False)
            self.attend = nn.Linear(2 * c_out, 1, bias=False)  # a^T [W h_i || W h_j]
            self.act = nn.LeakyReLU(0.2)

        def forward(self, x, adjacency):
            h = self.linear(x)  # (N, nodes, out)
            source, target = self.attend.weight[0].chunk(2)
            logits = self.act((h @ source).unsqueeze(2) + (h @ target).unsqueeze(1))  # (N, nodes, nodes)
            weights = logits.masked_fill(adjacency == 0, -1e9).softmax(-1)
            return weights @ h

    class Layer(nn.Module):
        def __init__(self, c_in, c_out, act=None, residual=False):
            super().__init__()
            self.relations = nn.ModuleList(Relation(c_in, c_out) for _ in range(RELATIONS))
            self.root = nn.Linear(c_in, c_out)
            self.act = act
            self.residual = residual

        def forward(self, x, adjacency):
            y = self.root(x) + sum(r(x, adjacency[:, i]) for i, r in enumerate(self.relations))
            y = self.act(y) if self.act is not None else y
            return x + y if self.residual else y

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            act = _activation(variant.activation) if variant.activation else nn.ELU()
            self.layers = nn.ModuleList(
                [Layer(16, 16, act, residual=not variant.drop_residual), Layer(16, 8)]
            )

        def forward(self, features, adjacency):
            for layer in self.layers:
                features = layer(features, adjacency)
            return features

    return Net().eval()


def _graphs(rng: np.random.Generator, samples: int) -> dict[str, np.ndarray]:
    """Node features and one 0/1 adjacency per relation, self loops included: no node without neighbours."""
    adjacency = (rng.random((samples, RELATIONS, GRAPH_NODES, GRAPH_NODES)) < 0.25).astype(np.float32)
    adjacency[..., np.arange(GRAPH_NODES), np.arange(GRAPH_NODES)] = 1.0
    return {
        "features": rng.standard_normal((samples, GRAPH_NODES, 16)).astype(np.float32),
        "adjacency": adjacency,
    }


# --- transformers -------------------------------------------------------------------------------------
def _decoder(model):
    """A causal LM's logits for (input_ids, attention_mask), without a cache."""
    torch = _torch()

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    return Decoder()


def gptj(variant: Variant):
    """GPT-J (transformers' GPTJForCausalLM, small config): parallel attention and MLP, partial rotary."""
    torch = _torch()
    from transformers import GPTJConfig, GPTJForCausalLM

    def config(**changes):
        base = dict(
            vocab_size=128,
            n_embd=64,
            n_layer=2,
            n_head=4,
            rotary_dim=8,
            n_positions=64,
            bos_token_id=1,
            eos_token_id=2,
            attn_implementation="eager",
        )
        return GPTJConfig(**{**base, **changes})

    _seeded(28 + 1000 * variant.seed)
    model = GPTJForCausalLM(config()).eval()
    if variant.heads:  # wider heads, the same weights
        model = _loaded(GPTJForCausalLM(config(n_head=variant.heads)), model)
    blocks = model.transformer.h
    if variant.activation:
        blocks[0].mlp.act = _activation(variant.activation)
    if variant.drop_residual:
        _drop_gptj_residual(blocks[0])
    if variant.drop_norm:
        blocks[1].ln_1 = torch.nn.Identity()
    if variant.epsilon:
        blocks[1].ln_1.eps = variant.epsilon
    if variant.pruned_head:
        attention = blocks[0].attn
        _prune_head(attention.q_proj, attention.k_proj, attention.v_proj, attention.out_proj, 1, 16)
    if variant.skip_layer:
        blocks[0] = _passed()
    if variant.early_exit:
        model.transformer.h = blocks[:-1]
    return finished(_decoder(model))


def _drop_gptj_residual(block) -> None:
    """The GPT-J block without its residual: attention plus MLP replace the residual stream."""

    def forward(hidden_states, *args, **kwargs):
        normed = block.ln_1(hidden_states)
        attended, _ = block.attn(hidden_states=normed, **kwargs)
        return attended + block.mlp(normed)

    block.forward = forward


def mixtral(variant: Variant):
    """Mixtral (transformers' MixtralForCausalLM, small config): GQA, sparse MoE, top-2 of four experts.

    The experts run transformers' "batched_mm" implementation: its default one loops in Python over the
    experts the export sample happened to route to, which the TorchScript trace would freeze.
    """
    torch = _torch()
    from transformers import MixtralConfig, MixtralForCausalLM

    def config(**changes):
        base = dict(
            vocab_size=128,
            hidden_size=64,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            num_local_experts=4,
            num_experts_per_tok=2,
            max_position_embeddings=64,
            attn_implementation="eager",
            experts_implementation="batched_mm",
        )
        return MixtralConfig(**{**base, **changes})

    _seeded(29 + 1000 * variant.seed)
    model = MixtralForCausalLM(config()).eval()
    changes: dict[str, Any] = {}
    if variant.heads:  # wider heads, the same weight shapes
        changes.update(num_attention_heads=variant.heads, num_key_value_heads=max(variant.heads // 2, 1))
    if variant.experts_per_token:
        changes["num_experts_per_tok"] = variant.experts_per_token
    if changes:
        model = _loaded(MixtralForCausalLM(config(**changes)), model)
    layers = model.model.layers
    if variant.activation:
        layers[0].mlp.experts.act_fn = _activation(variant.activation)
    if variant.drop_residual:
        _drop_mixtral_residual(layers[0])
    if variant.drop_norm:
        layers[1].post_attention_layernorm = torch.nn.Identity()
    if variant.epsilon:
        layers[1].post_attention_layernorm.variance_epsilon = variant.epsilon
    if variant.pruned_head:  # the key/value heads are shared by two query heads: the query head goes
        attention = layers[0].self_attn
        _prune_head(attention.q_proj, None, None, attention.o_proj, 1, attention.head_dim)
    if variant.skip_layer:
        layers[0] = _passed()
    if variant.early_exit:
        model.model.layers = layers[:-1]
    return finished(_decoder(model))


def _drop_mixtral_residual(layer) -> None:
    """The decoder layer without its MoE residual: the experts' output replaces the residual stream."""

    def forward(hidden_states, *args, **kwargs):
        attended, _ = layer.self_attn(hidden_states=layer.input_layernorm(hidden_states), **kwargs)
        return layer.mlp(layer.post_attention_layernorm(hidden_states + attended))

    layer.forward = forward


def whisper(variant: Variant):
    """Whisper's encoder (transformers' WhisperModel(config).encoder, small config): last_hidden_state.

    Two convs (the second strided) over 16 mel bins, sinusoidal positions, pre-LN blocks.
    """
    torch = _torch()
    from transformers import WhisperConfig, WhisperModel

    def config(**changes):
        base = dict(
            d_model=64,
            encoder_layers=2,
            decoder_layers=1,
            encoder_attention_heads=4,
            decoder_attention_heads=4,
            encoder_ffn_dim=128,
            decoder_ffn_dim=128,
            num_mel_bins=16,
            max_source_positions=16,
            vocab_size=128,
            max_target_positions=16,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
            decoder_start_token_id=3,
            init_std=0.05,  # at 0.02 attention is nearly uniform: the head count hardly shows
            attn_implementation="eager",
        )
        return WhisperConfig(**{**base, **changes})

    _seeded(30 + 1000 * variant.seed)
    model = WhisperModel(config()).encoder.eval()
    if variant.heads:
        model = _loaded(WhisperModel(config(encoder_attention_heads=variant.heads)).encoder, model)
    layers = model.layers
    if variant.activation:
        layers[0].activation_fn = _activation(variant.activation)
    if variant.drop_residual:
        _drop_whisper_residual(layers[0])
    if variant.drop_norm:
        layers[1].final_layer_norm = torch.nn.Identity()
    if variant.epsilon:
        layers[1].self_attn_layer_norm.eps = variant.epsilon
    if variant.pruned_head:
        attention = layers[0].self_attn
        _prune_head(attention.q_proj, attention.k_proj, attention.v_proj, attention.out_proj, 1, 16)
    if variant.skip_layer:
        layers[0] = _passed()
    if variant.early_exit:
        model.layers = layers[:-1]

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_features):
            return self.model(input_features=input_features).last_hidden_state

    return finished(Encoder())


def _drop_whisper_residual(layer) -> None:
    """The encoder layer without its attention residual: the attention output replaces the stream."""

    def forward(hidden_states, attention_mask=None, **kwargs):
        hidden_states, _ = layer.self_attn(
            hidden_states=layer.self_attn_layer_norm(hidden_states), attention_mask=attention_mask, **kwargs
        )
        residual = hidden_states
        hidden_states = layer.fc2(layer.activation_fn(layer.fc1(layer.final_layer_norm(hidden_states))))
        return residual + hidden_states

    layer.forward = forward


def _mel(rng: np.random.Generator, samples: int) -> dict[str, np.ndarray]:
    return {"input_features": rng.standard_normal((samples, 16, 32)).astype(np.float32)}


def swin(variant: Variant):
    """A Swin Transformer (transformers' SwinModel, small config): shifted windows, patch merging.

    Depths [1, 2], not [1, 1], so that the last stage has a layer to exit early from without changing
    the output's shape. Fewer heads do not apply: the relative position bias table has one column a head.
    """
    torch = _torch()
    from transformers import SwinConfig, SwinModel

    _seeded(31 + 1000 * variant.seed)
    config = SwinConfig(
        image_size=32,
        patch_size=4,
        embed_dim=16,
        depths=[1, 2],
        num_heads=[2, 4],
        window_size=4,
        attn_implementation="eager",  # SDPA exports from opset 14 on only
    )
    model = SwinModel(config, add_pooling_layer=False).eval()
    stages = model.encoder.layers
    if variant.activation:
        stages[0].blocks[0].mlp.activation_fn = _activation(variant.activation)
    if variant.drop_residual:
        _drop_swin_residual(stages[1].blocks[0])
    if variant.drop_norm:
        stages[0].blocks[0].layernorm_after = torch.nn.Identity()
    if variant.epsilon:
        stages[1].blocks[1].layernorm_before.eps = variant.epsilon
    if variant.pruned_head:
        attention = stages[1].blocks[0].attention
        _prune_head(
            attention.q_proj, attention.k_proj, attention.v_proj, attention.o_proj, 1, attention.head_dim
        )
    if variant.skip_layer:
        stages[0].blocks[0] = _passed(returns_tuple=True)
    if variant.early_exit:
        stages[1].blocks = stages[1].blocks[:-1]

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, image):
            return self.model(pixel_values=image).last_hidden_state

    return finished(Encoder())


def _drop_swin_residual(layer) -> None:
    """The Swin layer without its MLP residual: the MLP's output replaces the residual stream.

    The window attention before it is transformers' (SwinLayer.forward), residual included.
    """
    from transformers.models.swin.modeling_swin import window_partition, window_reverse

    def forward(hidden_states, input_dimensions, always_partition=False, **kwargs):
        if not always_partition:
            layer.set_shift_and_window_size(input_dimensions)
        height, width = input_dimensions
        batch_size, _, channels = hidden_states.size()
        shortcut = hidden_states
        hidden_states = layer.layernorm_before(hidden_states).view(batch_size, height, width, channels)
        hidden_states, _ = layer.maybe_pad(hidden_states, height, width)
        _, height_pad, width_pad, _ = hidden_states.shape
        windows = window_partition(layer.cyclic_shift(hidden_states), layer.window_size)
        windows = windows.view(-1, layer.window_size * layer.window_size, channels)
        mask = layer.get_attn_mask(height_pad, width_pad, dtype=hidden_states.dtype, device=windows.device)
        attended, weights = layer.attention(windows, mask, **kwargs)
        attended = attended.view(-1, layer.window_size, layer.window_size, channels)
        attended = layer.cyclic_shift(
            window_reverse(attended, layer.window_size, height_pad, width_pad), reverse=True
        )
        attended = attended[:, :height, :width, :].reshape(batch_size, height * width, channels)
        hidden_states = shortcut + attended
        return layer.mlp(layer.layernorm_after(hidden_states)), weights

    layer.forward = forward


# --- the families ---------------------------------------------------------------------------------------
_WEIGHTS = ("pruned", "modified_weight")
_CNN = ("swapped_activation", "dropped_residual", "dropped_norm", "skipped_layer", *_WEIGHTS)
_TRANSFORMER = (
    "swapped_activation",
    "dropped_residual",
    "dropped_norm",
    "skipped_layer",
    "early_exit",
    "epsilon",
    "pruned_head",
    *_WEIGHTS,
)

FAMILIES: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture("retinanet", "cnn", retinanet, _images(3, 64), _CNN),
        Architecture("unet3d", "cnn", unet3d, _volumes, _CNN),
        Architecture(
            "dlrm",
            "recsys",
            dlrm,
            _dlrm_inputs,
            ("swapped_activation", "table_pruned", "table_hashed", *_WEIGHTS),
        ),
        Architecture(
            "rnnt", "recurrent", rnnt, _rnnt_inputs, ("swapped_activation", "skipped_layer", *_WEIGHTS)
        ),
        Architecture(
            "gptj", "transformer", gptj, _tokens(128, 16, ("attention_mask",)), (*_TRANSFORMER, "fewer_heads")
        ),
        Architecture(
            "mixtral",
            "transformer",
            mixtral,
            _tokens(128, 16, ("attention_mask",)),
            (*_TRANSFORMER, "fewer_heads", "moe_topk"),
        ),
        Architecture("whisper", "transformer", whisper, _mel, (*_TRANSFORMER, "fewer_heads")),
        Architecture("sdunet", "cnn", sdunet, _sdunet_inputs, (*_CNN, "pruned_head")),
        Architecture("convnext", "cnn", convnext, _images(), _CNN),
        Architecture("efficientnet", "cnn", efficientnet, _images(), _CNN),
        Architecture("swin", "transformer", swin, _images(), _TRANSFORMER),
        Architecture("rgat", "gnn", rgat, _graphs, ("swapped_activation", "dropped_residual", *_WEIGHTS)),
    )
}


def architecture(name: str) -> Architecture:
    """An architecture of the main corpus or an MLPerf family, by name."""
    return {**ARCHITECTURES, **FAMILIES}[name]
