@echo off
"{{PYTHON}}" -m host %* 2>>"{{LOG}}"
