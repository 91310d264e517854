import { describe, expect, test } from "bun:test";
import { SERVICE_NICKS, serviceHolding } from "../../lib/protocol/service_nicks.ts";

describe("service nicks", () => {
  test("NickServ is held in any case and in look-alike spellings", () => {
    expect(SERVICE_NICKS).toContain("NickServ");
    for (const nick of ["NickServ", "nickserv", "NICKSERV", "ＮｉｃｋＳｅｒｖ", "NickS\u0435rv", "N1ckServ"]) {
      expect(serviceHolding(nick)).toBe("NickServ");
    }
  });

  test("nicks that only contain or resemble part of a service name are free", () => {
    for (const nick of ["Nick", "NickServ2", "NickServer", "Serv", "nick_serv", "ChanServ"]) {
      expect(serviceHolding(nick)).toBeUndefined();
    }
  });
});
