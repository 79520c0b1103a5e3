from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "classification"

    def ready(self) -> None:
        from celery.signals import worker_init, worker_process_init

        # Each worker process reads the classifier as it starts, not inside its first routing run
        # (prefork children: worker_process_init; solo and thread pools: worker_init).
        worker_process_init.connect(preload_classifier, weak=False, dispatch_uid="classification.preload")
        worker_init.connect(preload_classifier, weak=False, dispatch_uid="classification.preload-main")


def preload_classifier(**_: object) -> None:
    import logging

    from classification.services import get_model

    try:
        get_model()
    except FileNotFoundError:
        # The routing run reports it; a worker without the artifact must still start and serve
        # the other queues.
        logging.getLogger(__name__).exception("Classifier not preloaded")
