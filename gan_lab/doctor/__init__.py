"""The GAN doctor: catch the classic GAN failures while they happen, and explain them.

static.py    checks of G and D before training (trace.py: the data flow of one forward pass)
detectors.py the detectors, fed with values the loop already logs
monitor.py   the Doctor inside a training run: events to the console, TensorBoard, diagnoses.json
report.py    `gan-lab doctor <run | sweep>`: one verdict per check; plot.py draws doctor.png
"""
