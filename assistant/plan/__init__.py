"""Launch-portfolio planner: pick the new products to launch under budget / category / shelf limits."""

from assistant.plan.candidates import Candidate, validate_candidates
from assistant.plan.planner import plan_launch, plan_portfolio, plan_rows, read_candidates_csv

__all__ = ["Candidate", "validate_candidates", "plan_launch", "plan_portfolio", "plan_rows",
           "read_candidates_csv"]
