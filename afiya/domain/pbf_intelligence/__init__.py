"""PBF intelligence: anomaly scores, audit targets and risk-based counter-verification plans.

Pure domain: data classes, the sampling design, the field's fixed risk rules, thresholds,
the wording of reasons, and the ports that ``afiya.adapters.ml`` implements.
"""
