"""Disclosure control for a whole wave: one decision every output reads, and its audit.

* `cells`: the wave's table rows counted by trust x role, with the margins outputs print;
* `decide`: which cells are withheld, primary and secondary, decided once for the wave;
* `intervals`: what a reader can work out about a withheld cell (linear programming);
* `audit`: every withheld small cell checked against the protection the wave asks for;
* `attributes`: the national tables by mode and by a question, in the same decision;
* `release` and `final`: which responses live and final figures read.
"""
