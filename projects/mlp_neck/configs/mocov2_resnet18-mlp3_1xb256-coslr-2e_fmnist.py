# The MoCo v2 Fashion-MNIST demo with this project's 3-layer projection MLP.
_base_ = ['../../../configs/mocov2/mocov2_resnet18_1xb256-coslr-2e_fmnist.py']

# Load the plugin; a typo in the module name fails loudly.
custom_imports = dict(imports=['projects.mlp_neck.mlp_neck'], allow_failed_imports=False)

model = dict(
    neck=dict(_delete_=True, type='MLPNeck', in_channels=128, hid_channels=512,
              out_channels=128, num_layers=3))
