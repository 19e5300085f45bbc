"""The project's wiring. The Celery app (alphaforge/celery.py) is not imported here,
as Django projects usually do: web workers would load Celery for nothing. Processes
that use tasks load it through core.background.shared_task; `celery -A alphaforge`
finds it as alphaforge.celery.app."""
