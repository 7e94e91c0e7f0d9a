"""What the bot says and does, one package per domain (chat, commands, conversation, tasks, ledgers, forms, core,
texts), each importing only those below it. No Flask, no platform code."""
