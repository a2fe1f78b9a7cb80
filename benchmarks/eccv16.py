"""The ECCV16 colourization network of Zhang, Isola & Efros, "Colorful Image Colorization"
(2016), layer for layer (VGG-style, 8 conv blocks, dilated conv5/conv6, 313 ab-bin logits
at 1/4 resolution). Used only as a speed reference in benchmarks; random weights."""

import torch.nn as nn


def _block(cin, cout, n, stride_last=1, dilation=1, bn=True):
    layers = []
    for i in range(n):
        s = stride_last if i == n - 1 else 1
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, s, dilation, dilation=dilation), nn.ReLU(True)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    return layers


class ECCV16(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            *_block(1, 64, 2, stride_last=2),  # conv1, H/2
            *_block(64, 128, 2, stride_last=2),  # conv2, H/4
            *_block(128, 256, 3, stride_last=2),  # conv3, H/8
            *_block(256, 512, 3),  # conv4
            *_block(512, 512, 3, dilation=2),  # conv5
            *_block(512, 512, 3, dilation=2),  # conv6
            *_block(512, 512, 3),  # conv7
            nn.ConvTranspose2d(512, 256, 4, 2, 1), nn.ReLU(True),  # conv8, H/4
            *_block(256, 256, 2, bn=False),
            nn.Conv2d(256, 313, 1),  # (B, 313, H/4, W/4)
        )
        self.out = nn.Conv2d(313, 2, 1, bias=False)  # annealed-mean-like projection to ab
        self.up = nn.Upsample(scale_factor=4, mode="bilinear")

    def forward(self, x):  # (B, 1, H, W)
        return self.up(self.out(self.net(x).softmax(1)))  # (B, 2, H, W)
