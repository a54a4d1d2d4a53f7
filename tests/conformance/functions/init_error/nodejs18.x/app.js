throw new Error("configuration missing at import");
