from .pretext_tasks import (ClassificationTask, ColorizationTask, CountingTask, DenseTask,
                            ExemplarTask, MotionSegmentationTask, PretextTask, build_task,
                            task_types)

__all__ = ['PretextTask', 'ClassificationTask', 'CountingTask', 'ExemplarTask', 'DenseTask',
           'ColorizationTask', 'MotionSegmentationTask', 'build_task', 'task_types']
