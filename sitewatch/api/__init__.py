"""The HTTP API (`sitewatch serve`): analyses, reports and chats over REST and server-sent events."""
