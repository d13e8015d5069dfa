"""The only Logger, Tracer and Metrics instances; everything imports these."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
