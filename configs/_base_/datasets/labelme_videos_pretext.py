# The CPU demos' video frames: no video ships with the system, so the demo videos are made
# from the three photos of Debian's labelme-examples (apt): an annotated object cut out with
# its polygon mask, moving 2-4 px per frame over a crop of another photo (the true masks are
# written too, to score the mined ones). Then the motion masks are mined from the videos:
#   python tools/dataset_converters/make_moving_object_videos.py --out data/labelme_videos \
#       --num-videos 12 --frames 16 --size 128
#   python tools/dataset_converters/mine_motion_masks.py --videos data/labelme_videos/videos \
#       --out data/labelme_videos_mined --every 1 --gt-masks data/labelme_videos/gt_masks
# (179 frames kept; their masks' mean IoU against the true ones 0.575, precision 0.593,
# recall 0.950: a mask covers the object at t and t + 1, and the flow bleeds a little.)
# The frames (128 px) with their masks, each seen 8 times an epoch, batches of 16. A config
# that inherits this one sets train_pipeline (LoadImageFromFile, LoadMotionMask, its views,
# PackInputs) and train_dataloader = dict(dataset=dict(dataset=dict(pipeline=...))).
_base_ = './imagenet_pretext.py'
video_root = 'data/labelme_videos_mined/'

train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=False, pin_memory=False,
    dataset=dict(_delete_=True, type='RepeatDataset', times=8, dataset=dict(
        type='ImageFolder', data_root=video_root + 'frames', mask_root=video_root + 'masks',
        pipeline=[])))
