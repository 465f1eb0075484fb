#!/bin/sh
exec '{{PYTHON}}' -m host "$@" 2>>'{{LOG}}'
