module lambkin.dev/agent

go 1.19
