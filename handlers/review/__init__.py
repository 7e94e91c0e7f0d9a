"""审核上报: who reviews a task's submissions, the review steps and their digests, decisions, returns and sign-off."""
