"""Lambda for the checklist step ReviewContractTerms (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import review_contract_terms

handler = step_handler("ReviewContractTerms", review_contract_terms.run)
