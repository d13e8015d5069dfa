"""Lambda for the checklist step PauseAdCampaigns (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import pause_ad_campaigns

handler = step_handler("PauseAdCampaigns", pause_ad_campaigns.run)
