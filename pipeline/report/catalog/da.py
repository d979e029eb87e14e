"""Danish wording of the report: headings, fixed sentences, captions and alt texts, keyed by a short id.

Placeholders (``{name}``) are filled by :func:`pipeline.report.catalog.tr` with values already formatted in
Python (numbers by :mod:`pipeline.report.fmt`, names by :mod:`pipeline.report.labels`). The same keys exist
in :mod:`pipeline.report.catalog.en`.
"""

TEXT: dict[str, str] = {
    # ---- document frame and cover ----------------------------------------------------------------
    "doc.subtitle": "Effektevaluering på registerdata",
    "doc.toc": "Indhold",
    "doc.page": "Side",
    "doc.of": "af",
    "doc.appendix": "Bilag",
    "cover.period": "Periode: ",
    "cover.groups": "Indsatsgruppe: {n_t} personer · sammenligningsgruppe: {n_c} personer",
    "cover.params": "Parametre: ",
    "cover.synthetic": "Rapporten er lavet på syntetiske (simulerede) data og handler ikke om virkelige personer.",
    "period.range": "{first} til {last}",
    "period.start": "start {start}",
    "period.pre": "; forperiode {months} måneder",
    "period.follow_up": "; opfølgning {months} måneder",

    # ---- words and phrases used inside sentences -------------------------------------------------
    "w.and": "og",
    "w.or": "eller",
    "w.about": "ca. ",
    "w.also": "også ",
    "w.more_persons": "flere",
    "w.fewer_persons": "færre",
    "w.higher": "højere",
    "w.lower": "lavere",
    "w.positive": "positiv",
    "w.negative": "negativ",
    "w.raised_number": "øgede",
    "w.lowered_number": "mindskede",
    "w.more_amount": "mere",
    "w.less_amount": "mindre",
    "target_group.default": "målgruppen",
    "when.during_year": " i løbet af et år",
    "when.per_year": " om året",
    "when.months_after": " {month} måneder efter start",
    "ci.prefix": "95 %-KI: ",
    "sig.yes": "statistisk signifikant",
    "sig.no": "ikke statistisk signifikant",
    "sig.above": "Forskellen er statistisk signifikant: hele 95 %-konfidensintervallet ligger over nul.",
    "sig.below": "Forskellen er statistisk signifikant: hele 95 %-konfidensintervallet ligger under nul.",
    "sig.none": "Forskellen er ikke statistisk signifikant: 95 %-konfidensintervallet omfatter nul, så vi kan ikke "
                "udelukke, at indsatsen ingen effekt havde på dette udfald.",
    "pct_sign": " %",

    # ---- headline and outcome sentences ----------------------------------------------------------
    "headline.suppressed": "Hovedresultatet kan ikke vises, fordi det bygger på for få personer.",
    "headline.coarsened": "Det på forhånd valgte hovedresultat bygger på for få personer til at kunne offentliggøres "
                          "(diskretionering). Vi viser derfor det samme udfald {how}.",
    "headline.coarsened.subgroup": "for alle i målgruppen i stedet for delgruppen {subgroup}",
    "headline.coarsened.window": "som gennemsnit over hele opfølgningsperioden i stedet for én måned",
    "headline.hours": "Efter start havde {pop} i gennemsnit {treated} pr. måned. Uden indsatsen ville tallet efter "
                      "vores estimat have været {comparison}.",
    "headline.programme_years": "I programårene {y0}–{y1} var årligt i gennemsnit {treated} af {pop} {phrase} i løbet "
                                "af året. Vores estimat for andelen uden indsatsen er {comparison}.",
    "headline.yearly": "I de {years} første år efter start var i gennemsnit {treated} af {pop} {phrase} i løbet af et "
                       "år. Uden indsatsen ville andelen efter vores estimat have været {comparison}.",
    "headline.at_month": "{month} måneder efter start var {treated} af {pop} {phrase}. Uden indsatsen ville andelen "
                         "efter vores estimat have været {comparison}.",
    "headline.after": "Efter start var {treated} af {pop} {phrase}. Uden indsatsen ville andelen efter vores estimat "
                      "have været {comparison}.",
    "headline.raised": "Vores bedste estimat er, at indsatsen øgede {what} med {size} ({ci}).",
    "headline.lowered": "Vores bedste estimat er, at indsatsen sænkede {what} med {size} ({ci}).",
    "headline.what_share": "andelen",
    "headline.what_number": "antallet",
    "headline.difference": "Med indsatsen var {what} {size} {word} end uden ({ci}).",
    "headline.what_count": "tallet",
    "headline.persons": "Det svarer til {extra} {more} personer {phrase}{when} blandt de {n_group} personer i "
                        "indsatsgruppen{per_year}.",
    "headline.per_year": " pr. år",
    "headline.primary": "Dette er undersøgelsens på forhånd valgte hovedresultat; det er det eneste resultat, vi tester "
                        "som bevis for en effekt. Andre udfald og delgrupper er sekundære og beskriver mønstre.",
    "headline.mde": "Med denne undersøgelses størrelse kan vi kun skelne effekter på mindst {size} fra nul: en sand "
                    "effekt af den størrelse ville vi finde statistisk signifikant i fire ud af fem tilfælde (mindste "
                    "påviselige effekt ved 80 % styrke og 5 % signifikansniveau).",
    "secondary.result": "Sekundært resultat for {who}: {what} {size} ({ci}), {sig}{mde}.",
    "secondary.mde": "; mindste påviselige effekt {size}",
    "bullet.suppressed": "kan ikke vises (for få personer).",

    # ---- seed study (synthetic data) -------------------------------------------------------------
    "seed.dir.below": "under",
    "seed.dir.above": "over",
    "seed.dir.away": "ved siden af",
    "seed.flag": "Forsigtighed: i simulerede data med kendt sand effekt ligger metodens estimater for {outcomes} "
                 "systematisk {direction} den sande effekt i dette design (frøstudiet, se bilaget). Disse resultater "
                 "bør ikke tillægges vægt.",
    "seed.range": "{lo}–{hi}",
    "seed.no_bias": "ingen af resultaterne har en skævhed, der er større end to Monte Carlo-standardfejl",
    "seed.bias": "{n} af resultaterne har en skævhed på mere end to Monte Carlo-standardfejl (se tabellen)",
    "seed.study": "Frøstudiet gentager hele analysen i {worlds} simulerede verdener med nye tilfældige tal "
                  "(benchmarks/seed_study.py). 95 %-konfidensintervallet dækker den sande effekt i {coverage} af "
                  "verdenerne, og {tail}.",
    "seed.every_ok": "Af alle {n} estimater i rapporten er ingen systematisk skæve (skævhed over tre Monte "
                     "Carlo-standardfejl).",
    "seed.every_flagged": "Af alle {n} estimater i rapporten er {k} systematisk skæve (skævhed over tre Monte "
                          "Carlo-standardfejl): {items}. Metoden bør ikke bruges til disse resultater i dette design.",

    # ---- robustness sentences used in the summary and the robustness chapter ----------------------
    "area.test": "Indsatsen er givet til hele boligområder, og der er få af dem ({k} indsatsområder blandt {g}). Vi har "
                 "derfor også testet hovedresultatet på områdeniveau: hvor ofte giver det samme estimat et lige så "
                 "stort udslag, når vi i stedet lader {k} tilfældigt valgte af de {g} områder være indsatsområder? "
                 "Svaret er p = {p}",
    "area.significant": ": også på områdeniveau er hovedresultatet statistisk signifikant.",
    "area.not_significant": ": på områdeniveau er hovedresultatet ikke statistisk signifikant, så forskelle mellem "
                            "boligområder kan ikke udelukkes som forklaring.",
    "area.neither": ": heller ikke på områdeniveau er resultatet statistisk signifikant.",
    "sensitivity.none": "Følsomhedsanalysen (Rambachan & Roth) viser, at resultatet ikke tåler nogen afvigelse fra "
                        "parallelle forløb efter start: selv en afvigelse, der er mindre end den største forskel før "
                        "start, kan forklare det.",
    "sensitivity.breakdown": "Følsomhedsanalyse (Rambachan & Roth): effekten forbliver statistisk signifikant, så længe "
                             "afvigelsen fra parallelle forløb efter start højst er {mbar} gange den største ændring i "
                             "forskellen mellem grupperne fra én periode til den næste før start (figuren over "
                             "følsomhed viser intervallerne). Da matchningen bruger forløbet før start, er ændringerne "
                             "før start små delvis per konstruktion; tallet er derfor en øvre grænse for, hvor robust "
                             "resultatet er.",

    # ---- summary ---------------------------------------------------------------------------------
    "h.summary": "Sammenfatning",
    "summary.intro": "Rapporten undersøger, om en fremskudt beskæftigelsesindsats – jobcentermedarbejdere placeret i "
                     "udsatte boligområder – har hjulpet {who} tættere på arbejdsmarkedet. ",
    "summary.cohort_years": "Vi udvælger målgruppen på ny i hvert af de {k} programår {y0}–{y1}: i alt {n_t} personår i "
                            "de {k_areas} boligområder med indsatsen (ca. {per_year} personer pr. år), som vi "
                            "sammenligner med {n_c} personår i boligområder uden indsatsen, matchet år for år på, "
                            "hvordan personerne lignede hinanden før start.",
    "summary.cohort": "Vi følger {n_t} personer i målgruppen i de {k_areas} boligområder med indsatsen og sammenligner "
                      "dem med {n_c} personer, der lignede dem før start, men boede i boligområder uden indsatsen.",
    "kf.with": "Med indsatsen",
    "kf.without": "Uden indsatsen (estimat)",
    "kf.difference": "Forskel",
    "h.main_result": "Hovedresultat",
    "h.all_outcomes": "Alle udfald",
    "summary.all_outcomes": "Effekter for {who}, beregnet med {method}{tail}",
    "summary.all_outcomes.mixed": " (hvor et udfald ikke er beregnet sådan, står metoden i kantet parentes):",
    "summary.all_outcomes.plain": ":",
    "h.meaning": "Hvad betyder det?",
    "meaning.fewer_than_one": "færre end én",
    "meaning.persons_in_target": "personer i målgruppen",
    "meaning.per100": "Ud af 100 {who} var {per100} {more} {phrase} som følge af indsatsen. Effekten er målt i "
                      "procentpoint: {pp} betyder en forskel på {pp} i andelen, ikke en stigning på {relative}.",
    "meaning.hours": "Som sekundært resultat estimerer vi, at indsatsen {verb} {also}antallet af {what}: i gennemsnit "
                     "{size} {more} pr. person ({ci}).",
    "meaning.share": "Som sekundært resultat finder vi {also}en statistisk sikker {sign} effekt på {what}: {size} "
                     "({ci}){tail}",
    "meaning.share.up": ".",
    "meaning.share.down": ", dvs. at andelen var lavere med indsatsen end uden.",
    "meaning.no_effect": "Vi finder ingen statistisk sikker effekt på {outcomes}. Det viser ikke, at der ingen effekt "
                         "er, men at en eventuel effekt er for lille til, at vi kan skelne den fra tilfældige udsving.",
    "meaning.no_effect.conj": "and",
    "meaning.see_results": "Se resultatkapitlet for detaljer.",
    "h.how_sure": "Hvor sikre er vi?",
    "sure.design": "Effekterne er beregnet ved at sammenligne med personer, der lignede deltagerne før start, men som "
                   "boede i boligområder uden indsatsen. Resultatet kan tolkes som indsatsens effekt, hvis de to "
                   "grupper ville have udviklet sig ens uden indsatsen.",
    "sure.pretrend_ok": "Før start er der ingen tegn på, at grupperne udviklede sig forskelligt (test for parallelle "
                        "forløb: p = {p}). Det beviser ikke antagelsen: matchningen bruger forløbet før start, så "
                        "grupperne ligner hinanden før start delvis per konstruktion, en test før start kan overse "
                        "forskelle, og den siger intet om perioden efter start.",
    "sure.pretrend_weak": "Testen for parallelle forløb før start giver p = {p}: ingen statistisk sikker forskel, men et "
                          "svagt tegn på forskellige forløb.",
    "sure.pretrend_bad": "Før start udviklede grupperne sig forskelligt (test for parallelle forløb: p = {p}), så "
                         "resultatet skal tolkes med forsigtighed.",
    "sure.methods_same": "Andre beregningsmetoder for samme udfald og periode – {methods} – giver samme effekt: {size}.",
    "sure.methods_range": "Andre beregningsmetoder for samme udfald og periode – {methods} – giver effekter mellem {lo} "
                          "og {hi}.",
    "sure.unmeasured": "Forskelle, som registrene ikke måler – fx motivation eller helbred – kan vi ikke tage højde for.",
    "synthetic.callout": "Syntetiske data: Denne rapport er lavet på syntetiske (simulerede) registerdata for at vise "
                         "metoden. Tallene handler ikke om virkelige personer. Fordi de sande effekter er kendt, "
                         "sammenligner bilaget estimaterne med dem.",

    # ---- the programme ---------------------------------------------------------------------------
    "h.programme": "Indsatsen",
    "programme.intro": "En fremskudt beskæftigelsesindsats er jobcentrets arbejde flyttet ud i boligområdet. "
                       "Medarbejderne har samme myndighedsrolle som i jobcentret, og borgerne har samme rettigheder og "
                       "pligter. Forskellen er, at indsatsen ligger tæt på borgernes bopæl, ofte med åben rådgivning, "
                       "og at medarbejderne har mere tid til den enkelte og kan samarbejde med lokale aktører om "
                       "problemer med helbred, bolig, økonomi og familie. Målet er i første omgang at få ledige tættere "
                       "på arbejdsmarkedet, fx i virksomhedspraktik eller løntilskud, og på længere sigt i ordinært "
                       "arbejde eller uddannelse.",
    "programme.areas": "I denne evaluering er indsatsen placeret i {k_areas} udsatte boligområder. ",
    "programme.start_one": "Indsatsen startede i {month} i alle {k_areas} områder",
    "programme.start_staggered": "Områderne startede på forskellige tidspunkter mellem {first} og {last}",
    "programme.end": ", og evalueringen dækker indsatsen til og med {month}.",
    "programme.end_open": ".",
    "programme.target": "Målgruppen er {who}. De sammenlignes med {comparison}.",
    "programme.comparison_default": "lignende personer uden indsatsen",

    # ---- data and method -------------------------------------------------------------------------
    "h.method": "Data og metode",
    "h.data": "Data",
    "method.data": "Analysen bygger på registre fra Danmarks Statistik: befolkningsregistret (BEF: alder, køn, "
                   "oprindelse og adresse), DREAM (ugentlige offentlige ydelser, herunder løntilskud og "
                   "virksomhedspraktik), eIndkomst (lønnede timer pr. måned) og uddannelsesregistret. Personerne er "
                   "pseudonymiserede, og rapporten indeholder kun tal for grupper.",
    "method.data_synthetic": "Her er registrene erstattet af syntetiske data med samme opbygning.",
    "h.who_included": "Hvem indgår",
    "method.cohort": "Vi følger en fast gruppe (kohorte) af personer, der er udvalgt ud fra deres bopæl og situation ved "
                     "starttidspunktet (referencetidspunktet). Personer i sammenligningsgruppen får samme "
                     "referencetidspunkt. Derfor ændrer flytninger ind og ud af områderne efter start ikke på, hvem der "
                     "sammenlignes. Tabellen viser udvælgelsen trin for trin.",
    "h.matching": "Matchning og balance",
    "method.matching": "For at sammenligne med personer, der lignede deltagerne før start, beregner vi for hver person "
                       "sandsynligheden for at bo i et område med indsatsen ud fra baggrundsvariablerne (en propensity "
                       "score) og finder for hver deltager de mest lignende personer i sammenligningsgruppen.",
    "method.balance_max": "Før matchning var den største standardiserede forskel {before}; efter matchning {after}",
    "method.balance_ok": " – under grænsen på 0,1, som normalt regnes for god balance.",
    "method.balance_over": ". {n} variable ligger over grænsen på 0,1, så balancen er ikke fuldt tilfredsstillende.",
    "method.balance_example": "Et eksempel: I året før start havde deltagerne i gennemsnit været i ordinær beskæftigelse "
                              "{treated} måneder mod {control} i hele sammenligningsgruppen; den matchede "
                              "sammenligningsgruppe havde {matched} måneder.",
    "method.subgroup_balance": "Resultaterne for delgrupper sammenligner kun personer inden for samme delgruppe. Inden "
                               "for delgrupperne er den største standardiserede forskel efter matchning {smd} "
                               "({subgroup}, {covariate}){tail}",
    "method.subgroup_balance.ok": " – under grænsen på 0,1.",
    "method.subgroup_balance.weak": "; delgruppernes resultater hviler derfor på en lidt svagere balance end "
                                    "resultatet for hele målgruppen.",
    "method.overlap": "Figuren nedenfor viser fordelingen af propensity scoren. Matchningen kan kun finde gode "
                      "sammenligningspersoner, hvor de to fordelinger overlapper.",
    "h.estimation": "Sådan beregner vi effekten",
    "method.methods": "Hovedmetoden er {method}. Metoderne i rapporten:",
    "method.uncertainty": "Usikkerheden angives med et 95 %-konfidensinterval. Intervaller beregnet på denne måde "
                          "indeholder den sande effekt i 95 % af tilfældene, hvis metodens antagelser holder. Et "
                          "resultat kaldes statistisk signifikant, når hele intervallet ligger på samme side af nul. "
                          "Standardfejlene tager højde for, at den samme person følges over mange måneder; detaljerne "
                          "står i bilaget.",

    # ---- results ---------------------------------------------------------------------------------
    "h.results": "Resultater",
    "results.headline": "Tabellen viser hovedresultatet i samme form som i den oprindelige evaluering.",
    "results.effects": "Den næste tabel viser effekterne på alle udfald med standardfejl, konfidensinterval og antal "
                       "personer.",
    "h.month_by_month": "Udviklingen måned for måned",
    "results.means": "Figuren viser udfaldet for indsatsgruppen og den matchede sammenligningsgruppe måned for måned fra "
                     "tre år før til tre år efter start. Forskellen mellem kurverne efter start, ud over forskellen før "
                     "start, er effekten.",
    "h.over_time": "Effekten over tid",
    "results.event_study": "Event study-figurerne viser den estimerede effekt for hver måned i forhold til måneden før "
                           "start med 95 %-konfidensinterval (mørk) og, hvor det er beregnet, et samtidigt "
                           "95 %-konfidensbånd for hele forløbet (lys). Før start bør estimaterne ligge omkring nul.",

    # ---- subgroups -------------------------------------------------------------------------------
    "h.subgroups": "Delgrupper",
    "subgroups.none": "Der er ikke beregnet effekter for delgrupper.",
    "subgroups.intro": "Tabellen viser effekterne for delgrupper af målgruppen, beregnet med hovedmetoden. ",
    "subgroups.significant": "For {outcome} er effekten statistisk signifikant for {subgroups}. ",
    "subgroups.none_significant": "For {outcomes} er ingen af delgruppernes effekter statistisk signifikante. ",
    "subgroups.caveat": "Delgrupperne er mindre end hele gruppen, så usikkerheden er større. En forskel mellem to "
                        "delgrupper er kun sikker, hvis den selv er testet; og når man ser på mange delgrupper, vil "
                        "nogle resultater være signifikante ved et tilfælde.",

    # ---- robustness ------------------------------------------------------------------------------
    "h.robustness": "Robusthed",
    "robustness.intro": "Vi undersøger, om resultatet holder, når antagelserne udfordres: (1) fulgte grupperne hinanden "
                        "før start? (2) finder vi en 'effekt' af et falsk starttidspunkt, hvor der ikke kan være nogen? "
                        "(3) giver andre beregningsmetoder samme resultat?",
    "rob.pretrend_ok": "Parallelle forløb før start ({outcome}): ingen tegn på forskellige forløb (p = {p}).",
    "rob.pretrend_bad": "Parallelle forløb før start ({outcome}): forløbene er forskellige (p = {p}) – tolk med "
                        "forsigtighed.",
    "rob.placebo_ok": "Placebo ({outcome}): {estimate}ikke signifikant, som forventet.",
    "rob.placebo_bad": "Placebo ({outcome}): {estimate}signifikant – et faresignal.",
    "rob.area": "Hovedresultatet på områdeniveau ({outcome}): p = {p} (randomiseringsinferens over hvilke områder der "
                "er indsatsområder).",
    "rob.rest_ok_one": "Det øvrige udfald ({outcomes}): ingen faresignaler i testene for parallelle forløb og placebo.",
    "rob.rest_ok_many": "De øvrige udfald ({outcomes}): ingen faresignaler i testene for parallelle forløb og placebo.",
    "rob.rest_pretrend": "forskellige forløb før start for {outcomes}",
    "rob.rest_placebo": "signifikant placebo-effekt for {outcomes}",
    "rob.rest_bad": "De øvrige udfald: {problems} – effekterne på disse udfald skal tolkes med forsigtighed.",
    "robustness.estimators": "Tabellen nedenfor sammenligner metoderne for hovedudfaldet. Den naive sammenligning tager "
                             "ikke højde for forskelle mellem grupperne og vises kun til sammenligning.",

    # ---- appendix: definitions -------------------------------------------------------------------
    "h.definitions": "Definitioner",
    "def.target_group": "Målgruppe",
    "def.outcomes": "Udfald",
    "def.population": "Population",
    "def.comparison": "Sammenligningsgruppe",
    "def.covariates": "Baggrundsvariable",
    "h.outcomes_spells": "Udfald og forløb",
    "appx.no_definitions": "Definitionerne er ikke angivet af estimationstrinnet.",
    "h.dream_codes": "Anvendte DREAM-koder",
    "dream.note": "Koderne er de ugentlige ydelseskoder i DREAM; kodelisten med betydninger ligger i "
                  "data_schema/codes/dream_codes.csv.",
    "dream.caption": "Anvendte DREAM-koder",
    "dream.col_use": "Anvendelse",
    "dream.col_codes": "Koder",
    "dream.target": "Målgruppe: ",
    "dream.wage_subsidy": "Løntilskud",
    "dream.internship": "Virksomhedspraktik",
    "dream.flexjob": "Fleksjob (tæller ikke som ordinær beskæftigelse)",
    "dream.public": "Offentlig forsørgelse (selvforsørget = ingen af disse i måneden)",
    "dream.censoring": "Censurering (udvandret, folkepension, død)",
    "appx.not_stated": "Ikke angivet.",

    # ---- appendix: estimation and software -------------------------------------------------------
    "h.software": "Estimation og software",
    "h.estimation_choices": "Valg i estimationen",
    "h.se": "Standardfejl og inferens",
    "appx.dependence": "Afhængighed: en behandlet person og den sammenligningsperson, der er matchet til personen, hører "
                       "sammen (et matchet par). En person, der indgår flere gange – en sammenligningsperson matchet ved "
                       "flere referencedatoer, en person i målgruppen i flere programår – gør de par, personen indgår i, "
                       "afhængige af hinanden. Standardfejlene tager højde for begge dele: variansen summerer over de "
                       "matchede par og over hvert to par, der deler en person (se beskrivelsen ved hver metode "
                       "nedenfor); hovedresultatet er desuden testet på områdeniveau (randomiseringsinferens over "
                       "indsatsområderne).",
    "h.software_params": "Software og parametre",
    "software.caption": "Softwareversioner",
    "software.col_package": "Pakke",
    "software.col_version": "Version",
    "appx.params_hash": "Parameter-hash (params.yaml): ",
    "appx.version": ". Rapporten er lavet med fremskudt-eval {version}. Samme parametre og data giver den samme rapport "
                    "byte for byte.",

    # ---- appendix: disclosure control ------------------------------------------------------------
    "h.disclosure": "Diskretionering",
    "appx.disclosure": "Ingen tal i rapporten bygger på færre end {min_cell} personer. Celler med færre personer er "
                       "undertrykt (vist som x), og hvor et undertrykt tal ville kunne regnes tilbage fra totaler eller "
                       "andre tal, er yderligere celler undertrykt (sekundær diskretionering): ved lineær programmering "
                       "over alle sammenhænge mellem de offentliggjorte tal (undergrupper, der summerer til alle, "
                       "forskel-i-forskelle-regnestykket og de årlige mod de månedlige andele) kan intet undertrykt tal "
                       "indsnævres til under {min_cell} personer eller {relative_pct} % af sin værdi. Timetal "
                       "undertrykkes, hvis {dominance_n} personer står for mere end {dominance_pct} % af summen. Søjler "
                       "i histogrammer med få personer er slået sammen med nabosøjlen, og punkter i figurer bygger på "
                       "mindst {min_cell} personer. Rapporten indeholder ingen minimums- eller maksimumsværdier og ingen "
                       "personoplysninger. I alt {n_suppressed} celler eller punkter er undertrykt eller slået sammen.",

    # ---- appendix: synthetic data ----------------------------------------------------------------
    "h.truth": "Syntetiske data: estimater og sande effekter",
    "appx.truth": "Datageneratoren simulerer hver behandlet persons forløb både med og uden indsatsen, så den sande "
                  "effekt er kendt. Den sande effekt i tabellen er gennemsnittet over netop de behandlede, som "
                  "estimatet bygger på (de matchede behandlede; ved de simple sammenligninger alle behandlede). I denne "
                  "ene kørsel dækker {n_covered} af {n} 95 %-konfidensintervaller den sande værdi. Én kørsel kan ikke "
                  "vise, at metoden er korrekt: det gør først gentagne kørsler med nye data.",
    "appx.no_seed_study": "Der foreligger intet frøstudie for denne undersøgelse (benchmarks/seed_study.py summary "
                          "--publish).",

    # ---- table captions (stage report) -----------------------------------------------------------
    "tab.effects": "Alle estimerede effekter",
    "tab.effects_main": "Effekter på alle udfald",
    "tab.effects_main.method": " ({method})",
    "tab.effects_subgroups": "Effekter for delgrupper ({method})",
    "tab.effects_estimators": "Effekter efter metode (alle i målgruppen)",

    # ---- figure captions and alt texts (stage report) --------------------------------------------
    "fig.event_study.caption": "Effekt på {what} måned for måned i forhold til start – {who}. Metode: {method}",
    "fig.event_study.alt": "Event study-figur: estimeret effekt på {what} for hver måned fra {before} måneder før til {after} "
                           "måneder efter start med konfidensintervaller.",
    "fig.means.caption": "{what} i indsatsgruppen og den matchede sammenligningsgruppe, måned for måned – {who}",
    "fig.means.alt": "Linjediagram: {what} for indsatsgruppen og sammenligningsgruppen fra {before} måneder før til {after} "
                     "måneder efter start.",
    "fig.sensitivity.caption": "Følsomhed for antagelsen om parallelle forløb (Rambachan & Roth): hovedresultatets "
                               "95 %-interval, når forløbene efter start må afvige op til M̄ gange den største ændring "
                               "før start",
    "fig.sensitivity.alt": "Lodrette intervaller for hovedresultatet for stigende værdier af M̄; det grå interval til "
                           "venstre er det oprindelige.",
    "fig.love_plot.caption": "Balance før og efter matchning: absolut standardiseret forskel pr. baggrundsvariabel",
    "fig.love_plot.alt": "Prikdiagram over standardiserede forskelle før og efter matchning.",
    "fig.overlap.caption": "Fordeling af propensity score i indsatsgruppen (over aksen) og sammenligningsgruppen (under "
                           "aksen)",
    "fig.overlap.alt": "Spejlvendt histogram af propensity score for de to grupper.",
}
