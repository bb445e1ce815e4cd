"""python -m examsolve"""
from examsolve.cli import main

main()
